"""Tag news text with the base assets it mentions (``"BTC"``, ``"ETH"``, ...).

Alias rule: an all-lower-case alias (``"bitcoin"``) matches case-insensitively; any other alias
(``"SOL"``, ``"Sui"``) matches with exactly that case, so tickers that are ordinary words
(LINK, NEAR, OP, UNI) only match when written as tickers. Matches need word boundaries on both sides
(``"ETH"`` matches ``"$ETH"`` and ``"ETH's"``, not ``"ETHBTC"`` or ``"Ethereum"``). Overlapping matches
keep the longest alias, so ``"Bitcoin Cash"`` tags BCH and not BTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

__all__ = ["DEFAULT_ASSET_ALIASES", "tag_assets"]

#: Base asset -> aliases. Covers BTC, ETH, SOL, XRP and every base in ``../shared/data/binance``.
DEFAULT_ASSET_ALIASES: Mapping[str, tuple[str, ...]] = {
    "AAVE": ("aave",),
    "ADA": ("cardano", "ADA"),
    "ARB": ("arbitrum", "ARB"),
    "AVAX": ("avalanche", "avax"),
    "BCH": ("bitcoin cash", "bch"),
    "BNB": ("bnb", "binance coin"),
    "BTC": ("bitcoin", "btc", "xbt"),
    "DOGE": ("dogecoin", "doge"),
    "ETH": ("ethereum", "ether", "eth"),
    "INJ": ("injective", "INJ"),
    "LINK": ("chainlink", "LINK"),
    "LTC": ("litecoin", "ltc"),
    "NEAR": ("near protocol", "NEAR"),
    "OP": ("OP Mainnet", "OP"),
    "PAXG": ("pax gold", "paxg"),
    "SOL": ("solana", "SOL"),
    "SUI": ("SUI", "Sui"),
    "TAO": ("bittensor", "TAO"),
    "TRX": ("tron", "trx"),
    "UNI": ("uniswap", "UNI"),
    "XRP": ("ripple", "xrp"),
    "ZEC": ("zcash", "zec"),
}


@lru_cache(maxsize=32)
def _compile(aliases: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation over every alias, longest first (regex alternation takes the first that matches)."""
    entries = sorted(((alias, asset) for asset, names in aliases for alias in names),
                     key=lambda e: (-len(e[0]), e[0]))
    owner: dict[str, str] = {}
    parts: list[str] = []
    for i, (alias, asset) in enumerate(entries):
        owner[f"g{i}"] = asset
        body = r"\s+".join(re.escape(w) for w in alias.split())
        parts.append(f"(?P<g{i}>(?i:{body}))" if alias == alias.lower() else f"(?P<g{i}>{body})")
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)"), owner


def tag_assets(text: str, aliases: Mapping[str, tuple[str, ...]] | None = None) -> tuple[str, ...]:
    """Return the sorted base assets mentioned in ``text``; ``()`` means market-wide.

    Parameters
    ----------
    text : str
        Headline and/or body.
    aliases : Mapping[str, tuple[str, ...]], optional
        Base asset -> aliases; defaults to :data:`DEFAULT_ASSET_ALIASES`.

    Examples
    --------
    >>> tag_assets("Bitcoin (BTC) and $ETH rally; Solana lags")
    ('BTC', 'ETH', 'SOL')
    >>> tag_assets("Bitcoin Cash jumps as the market waits")
    ('BCH',)
    >>> tag_assets("Fed leaves rates unchanged")
    ()
    """
    amap = DEFAULT_ASSET_ALIASES if aliases is None else aliases
    key = tuple(sorted((str(a), tuple(n)) for a, n in amap.items()))
    if not key or not any(n for _, n in key):
        return ()
    pattern, owner = _compile(key)
    found = {owner[m.lastgroup] for m in pattern.finditer(text or "") if m.lastgroup}
    return tuple(sorted(found))

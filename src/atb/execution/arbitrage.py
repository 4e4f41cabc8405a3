"""Cross-exchange price-gap detection for one pair (pure logic, detection only: it never places orders).

A gap exists when buying at one venue's ask and selling at another venue's bid earns more than both
taker fees. For a buy venue ``a`` (ask ``A``, taker fee ``fa``) and a sell venue ``b`` (bid ``B``,
taker fee ``fb``):

* gross gap, bps: ``(B - A) / A * 10_000``
* net gap, bps: ``(B * (1 - fb) - A * (1 + fa)) / (A * (1 + fa)) * 10_000`` (profit per unit of
  fee-inclusive cost)

With books, the executable amount walks ``a``'s asks upward and ``b``'s bids downward together,
as long as the marginal unit still has a positive net gap; it is then rounded down to the coarser
``amount_step`` of the two venues (assumed to be a multiple of the finer one, true for
power-of-ten steps) and must meet both venues' ``min_amount`` and ``min_notional``. Tickers have
no depth: their gaps carry ``None`` amounts and profit. Transfers, withdrawal fees, latency and
inventory are ignored: a gap is a signal to examine, not a riskless profit.

Examples
--------
>>> from decimal import Decimal as D
>>> from atb.execution.models import BookSnapshot, Market
>>> mk = dict(pair="BTC/USDT", base="BTC", quote="USDT", price_tick=D("0.01"), amount_step=D("0.01"))
>>> markets = {"a": Market(**mk, taker_fee=D(0)), "b": Market(**mk, taker_fee=D(0))}
>>> books = {"a": BookSnapshot(pair="BTC/USDT", timestamp=0, bids=(), asks=((D(100), D(2)),)),
...          "b": BookSnapshot(pair="BTC/USDT", timestamp=0, bids=((D(101), D(1)),), asks=())}
>>> gap = detect_price_gaps(books, markets)[0]
>>> (gap.buy_venue, gap.sell_venue, gap.gross_bps, gap.amount, gap.expected_profit)
('a', 'b', Decimal('100.00'), Decimal('1'), Decimal('1'))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from atb.errors import ConfigError
from atb.execution.models import BookSnapshot, Market, Ticker

__all__ = ["ArbitrageDetector", "PriceGap", "detect_price_gaps"]

_ZERO = Decimal(0)
_BPS = Decimal(10_000)
_Quote = BookSnapshot | Ticker
_Levels = tuple[tuple[Decimal, Decimal], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceGap:
    """A buy-here, sell-there opportunity for one pair at one moment.

    Attributes
    ----------
    pair : str
        The pair.
    buy_venue, sell_venue : str
        Venue to buy on (take its asks) and venue to sell on (take its bids).
    buy_price : Decimal
        _Quote currency; best ask on ``buy_venue``.
    sell_price : Decimal
        _Quote currency; best bid on ``sell_venue``.
    gross_bps : Decimal
        Basis points; ``(sell_price - buy_price) / buy_price * 10_000``.
    net_bps : Decimal
        Basis points after both taker fees, relative to the fee-inclusive cost (module docstring).
    top_amount : Decimal or None
        Base currency available at the two best levels (the smaller); None for tickers.
    amount : Decimal or None
        Base currency executable through the levels while the marginal net gap stays positive,
        rounded down to the coarser amount step; None for tickers.
    buy_worst_price, sell_worst_price : Decimal or None
        _Quote currency; deepest ask bought and bid sold for ``amount``; None for tickers.
    expected_profit : Decimal or None
        _Quote currency, after both taker fees, for ``amount``; None for tickers.
    timestamp : int
        UTC ms; the older of the two quotes.
    """

    pair: str
    buy_venue: str
    sell_venue: str
    buy_price: Decimal
    sell_price: Decimal
    gross_bps: Decimal
    net_bps: Decimal
    top_amount: Decimal | None
    amount: Decimal | None
    buy_worst_price: Decimal | None
    sell_worst_price: Decimal | None
    expected_profit: Decimal | None
    timestamp: int


def detect_price_gaps(quotes: Mapping[str, _Quote], markets: Mapping[str, Market], *,
                      min_net_bps: Decimal = _ZERO) -> list[PriceGap]:
    """Find every venue pair whose ask/bid gap beats both taker fees.

    Parameters
    ----------
    quotes : Mapping[str, BookSnapshot | Ticker]
        Latest book or ticker per venue, all for one pair.
    markets : Mapping[str, Market]
        Trading rules per venue (taker fees, amount step, minimums); inactive markets are skipped.
    min_net_bps : Decimal, default 0
        Basis points; report only gaps whose top-of-book net gap is at least this (and > 0).

    Returns
    -------
    list[PriceGap]
        Sorted by expected profit, largest first (ticker gaps, without profit, last), then by net gap.

    Raises
    ------
    ConfigError
        A venue without a market, or quotes for different pairs.
    """
    pairs = {q.pair for q in quotes.values()}
    if len(pairs) > 1:
        raise ConfigError(f"price gaps: invalid value for 'quotes': several pairs {sorted(pairs)}")
    for venue in quotes:
        if venue not in markets:
            raise ConfigError(f"price gaps: missing value for 'markets[{venue!r}]'")
    gaps: list[PriceGap] = []
    for buy_venue, buy_quote in quotes.items():
        for sell_venue, sell_quote in quotes.items():
            if buy_venue == sell_venue or not (markets[buy_venue].active and markets[sell_venue].active):
                continue
            gap = _gap(buy_venue, buy_quote, markets[buy_venue], sell_venue, sell_quote, markets[sell_venue])
            if gap is not None and gap.net_bps > 0 and gap.net_bps >= min_net_bps:
                gaps.append(gap)
    gaps.sort(key=lambda g: (g.expected_profit is None, -(g.expected_profit or _ZERO), -g.net_bps,
                             g.buy_venue, g.sell_venue))
    return gaps


def _asks(quote: _Quote) -> _Levels | None:
    """Ask levels of a book, or None for a ticker (depth unknown)."""
    return quote.asks if isinstance(quote, BookSnapshot) else None


def _bids(quote: _Quote) -> _Levels | None:
    return quote.bids if isinstance(quote, BookSnapshot) else None


def _best(quote: _Quote, *, ask: bool) -> Decimal | None:
    if isinstance(quote, Ticker):
        return quote.ask if ask else quote.bid
    levels = [p for p, a in (quote.asks if ask else quote.bids) if p > 0 and a > 0]
    if not levels:
        return None
    return min(levels) if ask else max(levels)


def _gap(buy_venue: str, buy_quote: _Quote, buy_market: Market,
         sell_venue: str, sell_quote: _Quote, sell_market: Market) -> PriceGap | None:
    ask = _best(buy_quote, ask=True)
    bid = _best(sell_quote, ask=False)
    if ask is None or bid is None or ask <= 0 or bid <= 0:
        return None
    cost = ask * (1 + buy_market.taker_fee)
    proceeds = bid * (1 - sell_market.taker_fee)
    net_bps = (proceeds - cost) / cost * _BPS
    asks, bids = _asks(buy_quote), _bids(sell_quote)
    top = amount = buy_worst = sell_worst = profit = None
    if asks is not None and bids is not None and net_bps > 0:
        asks = tuple(sorted(((p, a) for p, a in asks if p > 0 and a > 0)))
        bids = tuple(sorted(((p, a) for p, a in bids if p > 0 and a > 0), reverse=True))
        top = min(asks[0][1], bids[0][1])
        step = max(buy_market.amount_step, sell_market.amount_step)
        raw = _walk(asks, bids, buy_market, sell_market, None)[0]
        amount = (raw // step) * step if step > 0 else raw
        amount, buy_worst, sell_worst, profit, buy_notional, sell_notional = _walk(
            asks, bids, buy_market, sell_market, amount)
        if not _meets_minimums(amount, buy_notional, buy_market) or not _meets_minimums(
                amount, sell_notional, sell_market):
            return None
    return PriceGap(
        pair=buy_quote.pair, buy_venue=buy_venue, sell_venue=sell_venue, buy_price=ask, sell_price=bid,
        gross_bps=(bid - ask) / ask * _BPS, net_bps=net_bps, top_amount=top, amount=amount,
        buy_worst_price=buy_worst, sell_worst_price=sell_worst, expected_profit=profit,
        timestamp=min(buy_quote.timestamp, sell_quote.timestamp),
    )


def _meets_minimums(amount: Decimal, notional: Decimal, market: Market) -> bool:
    return amount > 0 and amount >= market.min_amount and notional >= market.min_notional


def _walk(asks: _Levels, bids: _Levels, buy_market: Market, sell_market: Market, cap: Decimal | None,
          ) -> tuple[Decimal, Decimal | None, Decimal | None, Decimal, Decimal, Decimal]:
    """Match asks (ascending) with bids (descending) while the marginal net gap is positive.

    Returns amount (base), worst ask, worst bid, profit (quote, after fees), buy and sell notional (quote).
    """
    i = j = 0
    ask_left, bid_left = asks[0][1], bids[0][1]
    amount = profit = buy_notional = sell_notional = _ZERO
    buy_worst: Decimal | None = None
    sell_worst: Decimal | None = None
    while i < len(asks) and j < len(bids) and (cap is None or amount < cap):
        ask, bid = asks[i][0], bids[j][0]
        margin = bid * (1 - sell_market.taker_fee) - ask * (1 + buy_market.taker_fee)
        if margin <= 0:
            break
        take = min(ask_left, bid_left) if cap is None else min(ask_left, bid_left, cap - amount)
        amount += take
        profit += margin * take
        buy_notional += ask * take
        sell_notional += bid * take
        buy_worst, sell_worst = ask, bid
        ask_left -= take
        bid_left -= take
        if ask_left <= 0:
            i += 1
            ask_left = asks[i][1] if i < len(asks) else _ZERO
        if bid_left <= 0:
            j += 1
            bid_left = bids[j][1] if j < len(bids) else _ZERO
    return amount, buy_worst, sell_worst, profit, buy_notional, sell_notional


class ArbitrageDetector:
    """Keep the latest book (or ticker) per (venue, pair) and report price gaps on each update.

    Detection only: it never places orders. Quotes older than ``max_age_ms`` against "now" are
    ignored; "now" is the injected ``clock`` (UTC ms) when given, else the timestamp of the quote
    being processed (event time, deterministic in replays). An update older than the stored quote
    for the same venue and pair (out-of-order delivery) does not replace it.

    Parameters
    ----------
    markets : Mapping[str, Mapping[str, Market]]
        Trading rules by venue, then by pair.
    min_net_bps : Decimal, default 0
        Basis points; smallest top-of-book net gap reported.
    max_age_ms : int, default 5000
        Milliseconds; older quotes are ignored.
    clock : Callable[[], int], optional
        Returns now as UTC ms.

    Raises
    ------
    ConfigError
        ``max_age_ms`` not > 0.

    Examples
    --------
    >>> from decimal import Decimal as D
    >>> from atb.execution.models import BookSnapshot, Market
    >>> mk = Market(pair="ETH/USDT", base="ETH", quote="USDT", price_tick=D("0.01"),
    ...             amount_step=D("0.01"), taker_fee=D(0))
    >>> detector = ArbitrageDetector({"a": {"ETH/USDT": mk}, "b": {"ETH/USDT": mk}}, max_age_ms=1000)
    >>> detector.update("a", BookSnapshot(pair="ETH/USDT", timestamp=0, bids=(), asks=((D(10), D(1)),)))
    []
    >>> [g.sell_venue for g in detector.update("b", BookSnapshot(
    ...     pair="ETH/USDT", timestamp=500, bids=((D(11), D(1)),), asks=()))]
    ['b']
    >>> detector.update("b", BookSnapshot(pair="ETH/USDT", timestamp=2000, bids=((D(11), D(1)),), asks=()))
    []
    """

    def __init__(self, markets: Mapping[str, Mapping[str, Market]], *, min_net_bps: Decimal = _ZERO,
                 max_age_ms: int = 5_000, clock: Callable[[], int] | None = None) -> None:
        if not max_age_ms > 0:
            raise ConfigError(
                f"arbitrage detector: invalid value for 'max_age_ms': {max_age_ms!r} (must be > 0)")
        self._markets = markets
        self._min_net_bps = min_net_bps
        self._max_age_ms = max_age_ms
        self._clock = clock
        self._latest: dict[tuple[str, str], _Quote] = {}

    def update(self, venue: str, quote: _Quote) -> list[PriceGap]:
        """Store ``quote`` as the venue's latest for its pair; the pair's current gaps.

        Parameters
        ----------
        venue : str
            Venue the quote comes from.
        quote : BookSnapshot | Ticker
            New book or ticker; ``timestamp`` UTC ms.

        Returns
        -------
        list[PriceGap]
            Every current gap of the pair among fresh quotes (as :func:`detect_price_gaps`).

        Raises
        ------
        ConfigError
            No market for ``venue`` and the quote's pair.
        """
        if quote.pair not in self._markets.get(venue, {}):
            raise ConfigError(f"arbitrage detector: missing value for 'markets[{venue!r}][{quote.pair!r}]'")
        key = (venue, quote.pair)
        stored = self._latest.get(key)
        if stored is None or quote.timestamp >= stored.timestamp:
            self._latest[key] = quote
        return self.gaps(quote.pair, now_ms=self._clock() if self._clock else quote.timestamp)

    def gaps(self, pair: str, *, now_ms: int | None = None) -> list[PriceGap]:
        """Current gaps of ``pair`` among quotes no older than ``max_age_ms`` at ``now_ms``.

        ``now_ms`` (UTC ms) defaults to the clock, else to the newest stored quote of the pair.
        """
        quotes = {v: q for (v, p), q in self._latest.items() if p == pair}
        if now_ms is None:
            now_ms = self._clock() if self._clock else max((q.timestamp for q in quotes.values()), default=0)
        fresh = {v: q for v, q in quotes.items() if now_ms - q.timestamp <= self._max_age_ms}
        markets = {v: self._markets[v][pair] for v in fresh}
        return detect_price_gaps(fresh, markets, min_net_bps=self._min_net_bps)

    def latest(self, venue: str, pair: str) -> _Quote | None:
        """The stored quote of ``venue`` for ``pair``, stale or not; None if none."""
        return self._latest.get((venue, pair))

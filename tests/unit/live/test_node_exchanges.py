"""Config key ``exchanges`` (venues besides ``exchange`` for smart order routing): parsing and checks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from atb.errors import ConfigError
from atb.live.node import BotSpec, TradeOptions, VenueSpec, build_live_node, check_live, parse_exchanges
from atb.orders.memory import InMemoryOrderStore

MAIN = {"name": "binance"}


def _config(exchanges: Any) -> dict[str, Any]:
    return {"exchange": dict(MAIN), "exchanges": exchanges}


def test_absent_means_one_venue() -> None:
    assert parse_exchanges({"exchange": MAIN}) == ()


def test_entries_are_parsed_with_default_ccxt_config() -> None:
    venues = parse_exchanges(_config([{"name": "kraken"},
                                      {"name": "okx", "ccxt_config": {"options": {"x": 1}}}]))
    assert venues == (VenueSpec(name="kraken", ccxt_config={}),
                      VenueSpec(name="okx", ccxt_config={"options": {"x": 1}}))


@pytest.mark.parametrize(("exchanges", "field"), [
    ({"name": "kraken"}, "exchanges:"),
    (["kraken"], "exchanges[0]:"),
    ([{"name": "kraken", "key": "k"}], "exchanges[0]:"),
    ([{"name": "kraken"}, {"ccxt_config": {}}], "exchanges[1].name:"),
    ([{"name": ""}], "exchanges[0].name:"),
    ([{"name": 3}], "exchanges[0].name:"),
    ([{"name": "binance"}], "exchanges[0].name:"),
    ([{"name": "kraken"}, {"name": "kraken"}], "exchanges[1].name:"),
    ([{"name": "kraken", "ccxt_config": []}], "exchanges[0].ccxt_config:"),
])
def test_malformed_entries_name_the_field(exchanges: Any, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_exchanges(_config(exchanges))
    assert str(err.value).startswith(field)


def test_keys_in_an_entry_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"exchanges\[0\].*ATB__EXCHANGE__KRAKEN__KEY"):
        parse_exchanges(_config([{"name": "kraken", "ccxt_config": {"secret": "s"}}]))


def _opts(config: dict[str, Any], environ: dict[str, str], *, live: bool = True) -> TradeOptions:
    return TradeOptions(config=config, bots=(BotSpec(strategy_id="s", strategy="S", pairs=("BTC/USDT",),
                                                     wallet=100.0),),
                        timeframe="1h", userdir=Path("."), live=live, i_understand_live_risk=True,
                        environ=environ)


def test_live_needs_the_keys_of_every_venue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATB__SECRETS_FILE", raising=False)
    config = _config([{"name": "kraken"}])
    main_keys = {"ATB__EXCHANGE__BINANCE__KEY": "k", "ATB__EXCHANGE__BINANCE__SECRET": "s"}
    with pytest.raises(ConfigError, match="trading on kraken needs API keys.*ATB__EXCHANGE__KRAKEN__KEY"):
        check_live(_opts(config, main_keys))
    both = {**main_keys, "ATB__EXCHANGE__KRAKEN__KEY": "k2", "ATB__EXCHANGE__KRAKEN__SECRET": "s2"}
    creds = check_live(_opts(config, both))
    assert creds.exchange_id == "binance"  # the main venue's credentials are returned
    with pytest.raises(ConfigError, match=r"exchanges\[0\].name"):
        check_live(_opts(_config([{"name": ""}]), both))


def test_paper_on_venue_data_refuses_several_venues() -> None:
    opts = _opts(_config([{"name": "kraken"}]), {}, live=False)
    with pytest.raises(ConfigError, match="exchanges: smart order routing .* live mode only"):
        asyncio.run(build_live_node(opts, InMemoryOrderStore(), strategies={}))

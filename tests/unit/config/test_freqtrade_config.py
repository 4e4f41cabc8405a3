import json
import math

import pytest

from atb.config.freqtrade import load_freqtrade_config, validate_freqtrade_config
from atb.errors import ConfigError


def test_every_parity_config_is_accepted(shared_dir):
    for path in sorted((shared_dir / "parity" / "cases").glob("*/config.json")):
        cfg = load_freqtrade_config(path)
        raw = json.loads(path.read_text())
        assert cfg["stake_amount"] == raw["stake_amount"]
        assert cfg["max_open_trades"] == raw["max_open_trades"]
        assert cfg["bot_name"] == "reference"  # unknown keys are kept for strategies


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"stake_amount": "abc"}, "stake_amount"),
        ({"stake_amount": -5}, "stake_amount"),
        ({"max_open_trades": "x"}, "max_open_trades"),
        ({"stoploss": 0.5}, "stoploss"),
        ({"tradable_balance_ratio": 2}, "tradable_balance_ratio"),
        ({"exchange": {"pair_whitelist": "BTC/USDT"}}, "exchange.pair_whitelist"),
        ({"minimal_roi": {"0": "a lot"}}, "minimal_roi"),
        ({"trading_mode": "options"}, "trading_mode"),
    ],
)
def test_wrong_types_name_the_field(patch, field):
    with pytest.raises(ConfigError) as err:
        validate_freqtrade_config({"stake_currency": "USDT", **patch}, source="cfg.json")
    msg = str(err.value)
    assert f"'{field}" in msg and "cfg.json" in msg and "\n" not in msg


def test_unlimited_values_are_normalised():
    cfg = validate_freqtrade_config({"max_open_trades": -1, "stake_amount": 10,
                                     "dry_run_wallet": {"USDT": 500}, "stake_currency": "USDT"})
    assert math.isinf(cfg["max_open_trades"])
    assert cfg["stake_amount"] == 10.0 and cfg["dry_run_wallet"] == 500.0


def test_bad_json_names_line(tmp_path):
    p = tmp_path / "c.json"
    p.write_text('{"stake_amount": 10,\n "fee": }')
    with pytest.raises(ConfigError, match="line 2"):
        load_freqtrade_config(p)
    with pytest.raises(ConfigError, match="not found"):
        load_freqtrade_config(tmp_path / "missing.json")


def test_unlimited_stake_needs_a_trade_limit():
    with pytest.raises(ConfigError, match="max_open_trades.*stake_amount"):
        validate_freqtrade_config({"max_open_trades": -1, "stake_amount": "unlimited"})

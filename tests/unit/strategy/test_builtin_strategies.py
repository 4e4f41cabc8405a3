"""atb's own strategies: sensible signal counts on real 2024-2025 data, the ATR stop by hand."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import talib

from atb.strategy.helpers import stoploss_from_absolute
from atb.strategy.loader import load_strategy
from atb.strategy.trade import Trade

NAMES = ["AtbEmaRsiTrend", "AtbBollingerReversion", "AtbDonchianBreakout"]


@pytest.fixture(scope="module")
def data(shared_dir):
    out = {}
    for base in ("BTC", "ETH"):
        df = pd.read_feather(shared_dir / f"data/binance/{base}_USDT-1h.feather")
        keep = (df["date"] >= "2024-01-01") & (df["date"] < "2026-01-01")
        out[f"{base}/USDT"] = df[keep].reset_index(drop=True)
    return out


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("pair", ["BTC/USDT", "ETH/USDT"])
def test_reasonable_number_of_entries(name, pair, data):
    df = data[pair]
    s = load_strategy(name, {})
    assert s.timeframe == "1h" and s.stoploss < 0 and not s.can_short
    out = s.atb_analyze(df, {"pair": pair})
    entries = int(out["enter_long"].fillna(0).sum())
    assert 50 <= entries <= len(df) / 20, entries  # ~1 to 12 a week over two years
    assert out["exit_long"].fillna(0).sum() > 0
    assert out.loc[out["enter_long"] == 1, "enter_tag"].notna().all()


def test_donchian_custom_stoploss_uses_the_closed_candle_atr(data):
    df = data["BTC/USDT"].iloc[:500]
    s = load_strategy("AtbDonchianBreakout", {})
    assert s.use_custom_stoploss and s.atb_overridden("custom_stoploss")
    s.atb_analyze(df, {"pair": "BTC/USDT"})
    atr = talib.ATR(df["high"].to_numpy(), df["low"].to_numpy(), df["close"].to_numpy(), 14)
    i = 300
    now = df["date"][i].to_pydatetime()
    trade = Trade(pair="BTC/USDT", open_rate=df["open"][i - 5], amount=1.0,
                  max_rate=float(df["high"][i - 5: i].max()))
    rate = float(df["open"][i])
    got = s.custom_stoploss("BTC/USDT", trade, now, rate, 0.0, False)
    want = stoploss_from_absolute(trade.max_rate - 6.0 * atr[i - 1], rate)  # candle i-1 closed at now
    assert got == pytest.approx(want, rel=1e-12)
    early = df["date"][5].to_pydatetime()
    assert s.custom_stoploss("BTC/USDT", trade, early, rate, 0.0, False) is None  # ATR warming up
    assert s.custom_stoploss("ETH/USDT", trade, datetime(2024, 3, 1, tzinfo=UTC), rate, 0.0, False) is None
    assert not np.isnan(atr[i - 1])

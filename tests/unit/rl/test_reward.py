import math

import numpy as np
import pandas as pd
import pytest

from atb.rl import RLConfig, make_env
from atb.rl.reward import rolling_sigma, step_reward

OPEN = [100.0, 101.0, 104.0, 99.0, 98.0]
CLOSE = [100.5, 103.0, 100.0, 98.5, 99.0]


def five_candles():
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=5, freq="1h", tz="UTC"),
                         "open": OPEN, "high": [110.0] * 5, "low": [90.0] * 5, "close": CLOSE,
                         "volume": [1.0] * 5})


def test_reward_formula_on_five_hand_made_candles():
    fee, lam_dd, lam_to = 0.001, 0.5, 0.01
    cfg = RLConfig(window=1, position_sizes=(1.0,), allow_short=False, fee=fee, drawdown_penalty=lam_dd,
                   turnover_penalty=lam_to, episode_length=100)
    env = make_env(five_candles(), cfg, features=np.ones(5))
    env.reset(seed=0, options={"start": 0})
    rewards, infos = [], []
    for action in (1, 1, 0, 0):  # long at row 0 (fills at open 1), hold, flat at row 2 (fills at open 3)
        _, r, term, trunc, info = env.step(action)
        rewards.append(r)
        infos.append(info)
    assert trunc and not term

    # by hand: buy 1/101 BTC at 101 paying 0.1 % on top, sell at 99 receiving 99.9 %
    amount = 1.0 / 101.0
    cash = 1.0 - 1.0 * (1 + fee)
    e1 = cash + amount * 103.0
    e2 = cash + amount * 100.0
    e3 = cash + amount * 99.0 * (1 - fee)
    peak = e1
    dd2, dd3 = 1 - e2 / peak, 1 - e3 / peak
    expected = [
        math.log(e1 / 1.0) - lam_to * 1.0,
        math.log(e2 / e1) - lam_dd * dd2,
        math.log(e3 / e2) - lam_dd * (dd3 - dd2) - lam_to * 1.0,
        0.0,
    ]
    np.testing.assert_allclose(rewards, expected, rtol=0, atol=1e-15)
    assert [i["equity"] for i in infos] == pytest.approx([e1, e2, e3, e3], abs=1e-15)
    assert [i["position"] for i in infos] == [1.0, 1.0, 0.0, 0.0]
    assert infos[-1]["fees_paid"] == pytest.approx(fee * 1.0 + fee * amount * 99.0, abs=1e-15)
    trade = infos[2]["trade"]
    assert (trade.open_index, trade.close_index, trade.open_rate, trade.close_rate) == (1, 3, 101.0, 99.0)
    assert trade.profit_ratio == pytest.approx((99 * 0.999 - 101 * 1.001) / (101 * 1.001), abs=1e-15)
    # without penalties the rewards telescope to the log of the final equity
    plain = cfg.model_copy(update={"drawdown_penalty": 0.0, "turnover_penalty": 0.0})
    env = make_env(five_candles(), plain, features=np.ones(5))
    env.reset(seed=0, options={"start": 0})
    total = sum(env.step(a)[1] for a in (1, 1, 0, 0))
    assert total == pytest.approx(math.log(e3), abs=1e-14)


def test_volatility_scaling():
    close = np.array(CLOSE)
    sigma = rolling_sigma(close, 2)
    r = np.log(close[1:] / close[:-1])
    assert np.isnan(sigma[:2]).all()
    assert sigma[2] == pytest.approx(np.std(r[0:2]), abs=1e-15)
    assert sigma[4] == pytest.approx(np.std(r[2:4]), abs=1e-15)
    cfg = RLConfig(risk_adjust="vol", drawdown_penalty=0.5)
    base, peak = step_reward(1.0, 0.9, 1.0, 0.0, 1.0, RLConfig(drawdown_penalty=0.5))
    scaled, _ = step_reward(1.0, 0.9, 1.0, 0.0, 1.0, cfg, sigma=0.02)
    assert base == pytest.approx(math.log(0.9) - 0.5 * 0.1, abs=1e-15) and peak == 1.0
    assert scaled == pytest.approx(base / 0.02, abs=1e-12)
    vol_env = make_env(five_candles(), RLConfig(window=1, risk_adjust="vol", vol_window=2,
                                                drawdown_penalty=0.0), features=np.ones(5))
    _, info = vol_env.reset(seed=0)
    assert info["row"] == 2  # episodes start once sigma exists
    _, r2, *_ = vol_env.step(2)
    expected = math.log(1 - 1.001 + 1.0 / 99.0 * 98.5) / sigma[2]
    assert r2 == pytest.approx(expected, abs=1e-12)

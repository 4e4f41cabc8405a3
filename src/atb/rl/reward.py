"""Per-step reward of the trading environment.

With equity ``E_t`` marked at the close of candle ``t`` (net of every fee paid so far), the running
peak ``P_t = max(E_start, ..., E_t)`` and the drawdown ``D_t = 1 - E_t / P_t`` (ratio), the reward of
the step from the close of ``t`` to the close of ``t + 1`` (the action fills at the open of
``t + 1``) is::

    r = log(E_{t+1} / E_t)
        - drawdown_penalty * max(D_{t+1} - D_t, 0)
        - turnover_penalty * |p_{t+1} - p_t|

where ``p`` is the held position (signed fraction of equity at entry). With ``risk_adjust="vol"``
the whole of ``r`` is divided by ``max(sigma_t, 1e-6)``, ``sigma_t`` the population standard
deviation of the close-to-close log returns of the ``vol_window`` candles ending at ``t`` (data
``<= t``; a Sharpe-like scaling as in Moody & Saffell, "Learning to trade via direct
reinforcement", IEEE TNN 2001). Summed over an episode without penalties the rewards telescope
to ``log(E_end / E_start)``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from atb.rl.config import RLConfig

__all__ = ["SIGMA_FLOOR", "rolling_sigma", "step_reward"]

#: Lower bound of ``sigma_t`` in the volatility scaling.
SIGMA_FLOOR = 1e-6

#: Equity ratio used instead of ``E_{t+1} / E_t`` when equity is wiped out (``<= 0``).
_RUIN_RATIO = 1e-9


def rolling_sigma(close: np.ndarray, window: int) -> np.ndarray:
    """``sigma_t``: std (ddof 0) of close log returns over the ``window`` candles ending at ``t``.

    Returns
    -------
    ndarray
        Shape ``(n,)``, float64; NaN for ``t < window``.
    """
    r = np.full(len(close), np.nan)
    r[1:] = np.log(close[1:] / close[:-1])
    return np.asarray(pd.Series(r).rolling(window, min_periods=window).std(ddof=0), dtype=np.float64)


def step_reward(equity_prev: float, equity_new: float, peak_prev: float, position_prev: float,
                position_new: float, config: RLConfig, sigma: float = math.nan) -> tuple[float, float]:
    """Reward of one step and the new equity peak (formula in the module docstring).

    Parameters
    ----------
    equity_prev, equity_new : float
        ``E_t`` and ``E_{t+1}``, equity at the two closes.
    peak_prev : float
        ``P_t``, the running equity peak up to ``t``.
    position_prev, position_new : float
        Held positions before and after the fill (signed fractions of equity).
    config : RLConfig
        Supplies the penalties and ``risk_adjust``.
    sigma : float
        ``sigma_t`` (only used with ``risk_adjust="vol"``; NaN -> no scaling).

    Returns
    -------
    (reward, peak_new) : tuple of float

    Examples
    --------
    >>> cfg = RLConfig(drawdown_penalty=0.0)
    >>> round(step_reward(1.0, 1.1, 1.0, 0.0, 1.0, cfg)[0], 6)
    0.09531
    """
    ratio = equity_new / equity_prev if equity_new > 0.0 else _RUIN_RATIO
    peak_new = max(peak_prev, equity_new)
    dd_prev = 1.0 - equity_prev / peak_prev
    dd_new = 1.0 - equity_new / peak_new
    reward = (math.log(ratio) - config.drawdown_penalty * max(dd_new - dd_prev, 0.0)
              - config.turnover_penalty * abs(position_new - position_prev))
    if config.risk_adjust == "vol" and not math.isnan(sigma):
        reward /= max(sigma, SIGMA_FLOOR)
    return reward, peak_new

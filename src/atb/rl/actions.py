"""Actions -> target positions -> held positions -> freqtrade signal columns.

Action spaces (:class:`~atb.rl.config.RLConfig`):

* PPO/A2C, ``Discrete(1 + k)`` or ``Discrete(1 + 2k)`` for ``k = len(position_sizes)``: action 0
  is flat, ``1..k`` long at ``position_sizes[i - 1]``, ``k+1..2k`` short at
  ``position_sizes[i - k - 1]`` (only with ``allow_short``);
* SAC, ``Box(-1, 1, shape=(1,))``: the target position ``a`` as a signed fraction of equity;
  ``|a| < flat_band`` is flat, a negative ``a`` is flat without ``allow_short``.

Position rule (:func:`next_position`), the backtest's one-trade-per-pair semantics: a position
keeps the size it was opened with while the target stays on its side; a flat target closes it;
a target on the other side closes it and opens the new position on the same open (freqtrade's
position reversal in margin/futures mode: the backtest kernel runs a second pass on a candle
whose exit filled while the entry signal points the other way).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from atb.rl.config import RLConfig

__all__ = [
    "ENTER_TAG_PREFIX",
    "action_targets",
    "action_to_target",
    "actions_to_signals",
    "actions_to_targets",
    "implied_entries",
    "n_discrete_actions",
    "next_position",
    "size_from_tag",
]

#: Prefix of the ``enter_tag`` of RL entries: ``rl_long_0.5`` / ``rl_short_1.0``.
ENTER_TAG_PREFIX = "rl_"


def n_discrete_actions(config: RLConfig) -> int:
    """Size of the discrete action space: ``1 + k`` (long only) or ``1 + 2k`` with shorts."""
    k = len(config.position_sizes)
    return 1 + (2 * k if config.allow_short else k)


def action_targets(config: RLConfig) -> np.ndarray:
    """Target position (signed fraction of equity) of each discrete action, shape ``(n,)``, float64."""
    sizes = list(config.position_sizes)
    shorts = [-s for s in sizes] if config.allow_short else []
    return np.array([0.0, *sizes, *shorts], dtype=np.float64)


def action_to_target(action: object, config: RLConfig) -> float:
    """Signed target position of one action (see the module docstring); NaN for NaN or -1.

    Parameters
    ----------
    action : int, float or array
        A discrete index (PPO/A2C) or a continuous value in ``[-1, 1]`` (SAC).
    config : RLConfig

    Returns
    -------
    float
        Target as a signed fraction of equity; NaN marks "no action" (warm-up rows).
    """
    a = float(np.asarray(action, dtype=np.float64).reshape(-1)[0])
    if math.isnan(a):
        return math.nan
    if config.discrete:
        if a < 0:
            return math.nan
        return float(action_targets(config)[int(a)])
    a = min(max(a, -1.0), 1.0)
    if abs(a) < config.flat_band or (a < 0.0 and not config.allow_short):
        return 0.0
    return a


def actions_to_targets(actions: np.ndarray, config: RLConfig) -> np.ndarray:
    """Vectorised :func:`action_to_target`: shape ``(n,)`` float64 target positions (NaN = none)."""
    a = np.asarray(actions, dtype=np.float64).reshape(len(actions), -1)[:, 0]
    out = np.full(len(a), np.nan)
    ok = np.isfinite(a)
    if config.discrete:
        ok &= a >= 0
        out[ok] = action_targets(config)[a[ok].astype(np.int64)]
        return out
    c = np.clip(a[ok], -1.0, 1.0)
    flat = (np.abs(c) < config.flat_band) | ((c < 0.0) & (not config.allow_short))
    out[ok] = np.where(flat, 0.0, c)
    return out


def next_position(current: float, target: float) -> float:
    """The position held after acting on ``target`` from ``current`` (both signed fractions).

    ``NaN`` target: unchanged. From flat: the target. In a position: unchanged while the target
    is on the same side (the size is fixed at entry), else the target (flat, or a reversal).
    """
    if math.isnan(target):
        return current
    if current != 0.0 and target != 0.0 and (target > 0.0) == (current > 0.0):
        return current
    return target


def implied_entries(actions: np.ndarray, config: RLConfig) -> list[tuple[int, bool, float]]:
    """Entries the actions cause under :func:`next_position`, as the backtest fills them.

    Returns
    -------
    list of (fill_row, is_short, size)
        ``fill_row`` is the row whose OPEN fills the entry (the row after the action's row);
        actions on the last row have no fill row and open nothing.
    """
    targets = actions_to_targets(actions, config)
    pos = 0.0
    out: list[tuple[int, bool, float]] = []
    for t in range(len(targets) - 1):
        new = next_position(pos, float(targets[t]))
        if new != 0.0 and (pos == 0.0 or (new > 0.0) != (pos > 0.0)):
            out.append((t + 1, new < 0.0, abs(new)))
        pos = new
    return out


def size_from_tag(tag: object) -> float:
    """Position size encoded in an RL ``enter_tag`` (``rl_long_0.5`` -> 0.5); 1.0 for other tags."""
    if isinstance(tag, str) and tag.startswith(ENTER_TAG_PREFIX):
        try:
            size = float(tag.rsplit("_", 1)[-1])
        except ValueError:
            return 1.0
        return size if 0.0 < size <= 1.0 else 1.0
    return 1.0


def actions_to_signals(actions: np.ndarray, config: RLConfig) -> pd.DataFrame:
    """Signal columns (freqtrade's) for per-row actions.

    A row whose target is long sets ``enter_long`` (tag ``rl_long_<size>``, the size's repr) and
    ``exit_short``; short sets ``enter_short`` (tag ``rl_short_<size>``) and ``exit_long``; flat
    sets both exits; a warm-up row (NaN / -1) sets nothing. With the backtest's one trade per
    pair and its position reversal this reproduces :func:`next_position` (an open trade ignores
    entry signals of its own side; the opposite entry plus the exit reverse it on the next open).

    Parameters
    ----------
    actions : ndarray
        Shape ``(n,)`` (or ``(n, 1)`` for SAC), one action per candle row.
    config : RLConfig

    Returns
    -------
    DataFrame
        ``n`` rows (RangeIndex): ``enter_long, exit_long, enter_short, exit_short`` (int64 0/1)
        and ``enter_tag`` (object: str or None).
    """
    targets = actions_to_targets(actions, config)
    valid = np.isfinite(targets)
    long_ = valid & (targets > 0.0)
    short = valid & (targets < 0.0)
    flat = valid & (targets == 0.0)
    tags = np.full(len(targets), None, dtype=object)
    for i in np.flatnonzero(long_ | short):
        side = "long" if targets[i] > 0 else "short"
        tags[i] = f"{ENTER_TAG_PREFIX}{side}_{abs(float(targets[i]))!r}"
    return pd.DataFrame({
        "enter_long": long_.astype(np.int64),
        "exit_long": (short | flat).astype(np.int64),
        "enter_short": short.astype(np.int64),
        "exit_short": (long_ | flat).astype(np.int64),
        "enter_tag": pd.Series(tags, dtype=object),
    })

"""Market-regime detection: causal regime labels, regime -> parameter policies, attribution.

Detectors (:mod:`atb.regime.detectors`) label every candle as of its close using that candle and
earlier ones only: :class:`SmaTrendDetector` (daily close vs 200-day SMA with band and
hysteresis), :class:`HmmRegimeDetector` (walk-forward Gaussian HMM, filtered probabilities; needs
``hmmlearn``, extra ``atb[regime]``) and :class:`VolatilityRegimeDetector` (realised volatility vs
its expanding quantiles). :func:`btc_regime_for_pair` / :func:`add_regime_column` bring labels
into strategy frames; :class:`StrategyModeManager` and :func:`mode_column` switch parameters by
regime; :func:`performance_by_regime` and :func:`time_in_regime` attribute results.
"""

from atb.regime.analysis import performance_by_regime, time_in_regime
from atb.regime.detectors import (
    HmmRegimeDetector,
    SmaTrendDetector,
    VolatilityRegimeDetector,
    add_regime_column,
    btc_regime_for_pair,
)
from atb.regime.models import UNKNOWN, Regime, VolRegime
from atb.regime.policy import KNOWN_REGIMES, StrategyModeManager, mode_column
from atb.regime.ports import RegimeDetector

__all__ = [
    "KNOWN_REGIMES",
    "UNKNOWN",
    "HmmRegimeDetector",
    "Regime",
    "RegimeDetector",
    "SmaTrendDetector",
    "StrategyModeManager",
    "VolRegime",
    "VolatilityRegimeDetector",
    "add_regime_column",
    "btc_regime_for_pair",
    "mode_column",
    "performance_by_regime",
    "time_in_regime",
]

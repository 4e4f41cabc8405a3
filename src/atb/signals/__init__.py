"""Signal fusion: technical setup, model probability, sentiment, events and regime -> signal.

:func:`fuse_frame` (vectorised, backtests) and :class:`FusionEngine` (one row, live) share one
implementation; :func:`apply_fusion` / :func:`set_entry_signals` / :func:`set_exit_signals` are
the strategy helpers and :func:`contribution_summary` feeds the backtest report.
"""

from atb.signals.calibration import calibrated_confidence, direction_hits
from atb.signals.config import FusionConfig, load_fusion_config
from atb.signals.fusion import FusionEngine, fuse_frame, model_component, regime_component
from atb.signals.helper import apply_fusion, contribution_summary, set_entry_signals, set_exit_signals
from atb.signals.models import COMPONENTS, Direction, TradingSignal

__all__ = [
    "COMPONENTS",
    "Direction",
    "FusionConfig",
    "FusionEngine",
    "TradingSignal",
    "apply_fusion",
    "calibrated_confidence",
    "contribution_summary",
    "direction_hits",
    "fuse_frame",
    "load_fusion_config",
    "model_component",
    "regime_component",
    "set_entry_signals",
    "set_exit_signals",
]

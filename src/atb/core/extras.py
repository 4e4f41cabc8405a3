"""Import optional dependencies with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from atb.errors import MissingExtraError

__all__ = ["require"]


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming ``atb[extra]``.

    Parameters
    ----------
    module : str
        Dotted import name, e.g. ``"lightgbm"`` or ``"stable_baselines3"``.
    extra : str
        The atb extra that installs it (``"ml"``, ``"rl"``, ``"sentiment"``, ``"regime"``).
    feature : str
        What needs it, for the message (``"LightGBMModel"``).

    Raises
    ------
    MissingExtraError
        The module (or one of its own dependencies) cannot be imported.

    Examples
    --------
    >>> require("json", "ml", "demo").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(feature, module.split(".")[0], extra) from exc

"""Location of the real candles bundled with atb for demos."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["demo_datadir"]


def demo_datadir() -> Path:
    """Folder of the bundled Binance 1h candles (BTC, ETH, SOL, XRP against USDT).

    See ``atb/demo_data/README.md`` for the source of the data.
    """
    return Path(str(files("atb") / "demo_data" / "binance"))

"""Real BTC/ETH 1h candles shared by the feature tests (read once per session)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def btc_1h(shared_dir: Path) -> pd.DataFrame:
    return pd.read_feather(shared_dir / "data" / "binance" / "BTC_USDT-1h.feather")


@pytest.fixture(scope="session")
def eth_1h(shared_dir: Path) -> pd.DataFrame:
    return pd.read_feather(shared_dir / "data" / "binance" / "ETH_USDT-1h.feather")

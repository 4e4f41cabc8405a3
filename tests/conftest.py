"""Session-wide fixtures: where the shared real data and parity references live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
#: ../shared beside the repository (data/, parity/); ATB_SHARED_DIR overrides it.
SHARED_DIR = Path(os.environ.get("ATB_SHARED_DIR", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared folder with real market data and freqtrade reference runs."""
    if not (SHARED_DIR / "data").is_dir():
        raise RuntimeError(f"shared data not found at {SHARED_DIR} (set ATB_SHARED_DIR)")
    return SHARED_DIR

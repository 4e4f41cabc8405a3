"""Drop numba's on-disk kernel cache when any kernel or shared rule source changed.

numba keys a cached function on its own file's timestamp only, so an edit to a function it
calls in another module (e.g. ``atb/risk/rules.py``) would leave a stale compiled kernel in
``__pycache__``. A SHA-256 of every source the kernels compile is kept next to the cache; on a
mismatch the cache files (``*.nbi``/``*.nbc``) of those folders are removed before numba loads
them. Read-only installs and a custom ``NUMBA_CACHE_DIR`` are left alone.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["invalidate_stale_cache"]

_HERE = Path(__file__).resolve().parent
_RISK = _HERE.parents[1] / "risk"
_STAMP = "atb-kernel-sources.sha256"


def _sources() -> list[Path]:
    return sorted(_HERE.glob("*.py")) + [_RISK / n for n in ("layout.py", "rules.py", "sizing.py")]


def invalidate_stale_cache() -> bool:
    """Remove stale kernel caches; True when something was removed."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return False
    h = hashlib.sha256()
    for path in _sources():
        try:
            h.update(path.read_bytes())
        except OSError:
            return False
    digest = h.hexdigest()
    stamp = _HERE / "__pycache__" / _STAMP
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    removed = False
    try:
        for folder in (_HERE / "__pycache__", _RISK / "__pycache__"):
            if folder.is_dir():
                for f in folder.iterdir():
                    if f.suffix in (".nbi", ".nbc"):
                        f.unlink()
                        removed = True
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        return removed
    return removed

"""File layout shared by every format, and the format adapters themselves.

Layout (freqtrade's): spot ``<datadir>/<BASE>_<QUOTE>-<tf>.<ext>``; other candle types
``<datadir>/futures/<BASE>_<QUOTE>_<SETTLE>-<tf>-<candle_type>.<ext>`` for a pair
``BASE/QUOTE:SETTLE``. Formats: ``feather`` (Arrow IPC, lz4), ``parquet``, ``json``
(a list of ``[ts_ms, open, high, low, close, volume]``) and ``jsongz`` (the same, gzipped).
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from atb.data.models import OHLCV_COLUMNS, ensure_ohlcv_frame
from atb.errors import DataError, MissingDataError

__all__ = [
    "FORMATS",
    "FileCandleStore",
    "detect_format",
    "list_available",
    "pair_to_filename",
    "store_for",
]

#: format name -> file extension
FORMATS: dict[str, str] = {
    "feather": "feather",
    "parquet": "parquet",
    "json": "json",
    "jsongz": "json.gz",
}

_FILENAME_RE = re.compile(
    r"^(?P<pair>[A-Za-z0-9_\-]+?)-(?P<tf>\d+[smhdwMy])(?:-(?P<type>[a-z_]+))?\."
    r"(?P<ext>feather|parquet|json\.gz|json)$"
)


def pair_to_filename(pair: str) -> str:
    """``"BTC/USDT"`` -> ``"BTC_USDT"``; ``"BTC/USDT:USDT"`` -> ``"BTC_USDT_USDT"``."""
    out = pair
    for ch in ("/", " ", ".", "@", "$", "+", ":"):
        out = out.replace(ch, "_")
    return out


@dataclass(frozen=True, slots=True)
class FileCandleStore:
    """A :class:`atb.data.ports.CandleStore` for one format under one ``datadir``."""

    datadir: Path
    fmt: str = "feather"

    @property
    def extension(self) -> str:
        """File extension of this format."""
        return FORMATS[self.fmt]

    def path(self, pair: str, timeframe: str, candle_type: str = "spot") -> Path:
        """File of the pair's candles in this format."""
        name = pair_to_filename(pair)
        if candle_type in ("spot", ""):
            return Path(self.datadir) / f"{name}-{timeframe}.{self.extension}"
        return Path(self.datadir) / "futures" / f"{name}-{timeframe}-{candle_type}.{self.extension}"

    def load(self, pair: str, timeframe: str, candle_type: str = "spot") -> pd.DataFrame:
        """Read the stored candles; DataError naming the file if absent or unreadable."""
        path = self.path(pair, timeframe, candle_type)
        if not path.is_file():
            raise MissingDataError(f"no {timeframe} candles for {pair}: {path} does not exist")
        try:
            if self.fmt == "feather":
                df = pd.read_feather(path)
            elif self.fmt == "parquet":
                df = pd.read_parquet(path)
            else:
                opener = gzip.open if self.fmt == "jsongz" else open
                with opener(path, "rt", encoding="utf-8") as fh:
                    rows = json.load(fh)
                df = pd.DataFrame(rows, columns=list(OHLCV_COLUMNS))
        except DataError:
            raise
        except Exception as exc:  # pyarrow/json raise many types for a corrupt file
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"cannot read {path.name} ({pair} {timeframe}): {first}") from None
        return ensure_ohlcv_frame(df, pair, timeframe)

    def store(self, pair: str, timeframe: str, df: pd.DataFrame, candle_type: str = "spot") -> None:
        """Write (replace) the candles."""
        path = self.path(pair, timeframe, candle_type)
        path.parent.mkdir(parents=True, exist_ok=True)
        out = ensure_ohlcv_frame(df, pair, timeframe)
        tmp = path.with_name(path.name + ".tmp")
        if self.fmt == "feather":
            out.to_feather(tmp, compression="lz4")
        elif self.fmt == "parquet":
            out.to_parquet(tmp, index=False)
        else:
            ms = out["date"].dt.tz_localize(None).astype("datetime64[ms]").astype("int64").tolist()
            values = out[["open", "high", "low", "close", "volume"]].to_numpy().tolist()
            rows = [[t, *v] for t, v in zip(ms, values, strict=True)]
            opener = gzip.open if self.fmt == "jsongz" else open
            with opener(tmp, "wt", encoding="utf-8") as fh:
                json.dump(rows, fh)
        tmp.replace(path)  # atomic: a crash never leaves a half-written file

    def append(self, pair: str, timeframe: str, df: pd.DataFrame, candle_type: str = "spot") -> None:
        """Merge ``df`` into the stored candles; on equal dates the new row wins."""
        path = self.path(pair, timeframe, candle_type)
        new = ensure_ohlcv_frame(df, pair, timeframe)
        if path.is_file():
            old = self.load(pair, timeframe, candle_type)
            new = pd.concat([old, new]).drop_duplicates("date", keep="last")
        self.store(pair, timeframe, new.sort_values("date"), candle_type)


def detect_format(datadir: Path, pair: str, timeframe: str, candle_type: str = "spot") -> str:
    """First format whose file exists (feather, parquet, json, jsongz); ``feather`` if none."""
    for fmt in FORMATS:
        if FileCandleStore(datadir, fmt).path(pair, timeframe, candle_type).is_file():
            return fmt
    return "feather"


def store_for(datadir: Path, fmt: str | None, pair: str, timeframe: str,
              candle_type: str = "spot") -> FileCandleStore:
    """The store to read ``pair`` from: ``fmt`` if given, else detected."""
    if fmt is not None and fmt not in FORMATS:
        raise DataError(f"data format {fmt!r} is not one of {', '.join(FORMATS)}")
    return FileCandleStore(Path(datadir), fmt or detect_format(datadir, pair, timeframe, candle_type))


def list_available(datadir: Path) -> list[tuple[str, str, str, Path]]:
    """All candle files under ``datadir``: (pair, timeframe, candle_type, path), sorted.

    Pair names are rebuilt from file names (``BTC_USDT`` -> ``BTC/USDT``; futures
    ``BTC_USDT_USDT`` -> ``BTC/USDT:USDT``).
    """
    out = []
    for sub, default_type in ((Path(datadir), "spot"), (Path(datadir) / "futures", "futures")):
        if not sub.is_dir():
            continue
        for path in sorted(sub.iterdir()):
            m = _FILENAME_RE.match(path.name)
            if not m or path.name.endswith(".tmp"):
                continue
            parts = m.group("pair").split("_")
            if default_type == "futures" and len(parts) >= 3:
                pair = f"{parts[0]}/{parts[1]}:{'_'.join(parts[2:])}"
            else:
                pair = f"{parts[0]}/{'_'.join(parts[1:])}" if len(parts) > 1 else parts[0]
            out.append((pair, m.group("tf"), m.group("type") or default_type, path))
    return out

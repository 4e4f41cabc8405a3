"""Download OHLCV through a ccxt async client: paginated, resumable, rate limited."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from atb.core.timeframe import timeframe_to_msecs
from atb.data.ports import CandleStore
from atb.data.validate import validate_ohlcv
from atb.errors import DataError, ExchangeError, TemporaryExchangeError

__all__ = ["DownloadReport", "download_pair"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DownloadReport:
    """What one pair/timeframe download did."""

    pair: str
    timeframe: str
    new_candles: int
    total_candles: int
    requests: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    gaps: int
    missing_candles: int


def _to_frame(rows: list[list[Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["date", "open", "high", "low", "close", "volume"])
    df["date"] = pd.to_datetime(df["date"].astype("int64"), unit="ms", utc=True)
    for c in ("open", "high", "low", "close", "volume"):
        df[c] = df[c].astype("float64")
    return df


async def download_pair(
    exchange: Any,
    store: CandleStore,
    pair: str,
    timeframe: str,
    *,
    since_ms: int,
    until_ms: int | None = None,
    limit: int = 1000,
    candle_type: str = "spot",
    now_ms: Callable[[], int] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> DownloadReport:
    """Fetch candles of ``pair`` from ``since_ms`` (or after the stored data) and store them.

    Resumable: when the store already holds candles, fetching starts one candle after the last
    stored one. Pages of ``limit`` candles are requested with ``since`` until the present (or
    ``until_ms``); the still-open current candle is dropped. ccxt's own rate limiter paces the
    requests (``enableRateLimit``).

    Parameters
    ----------
    exchange : ccxt.async_support.Exchange
        With markets loadable; constructed by the caller (tests pass one aimed at 127.0.0.1).
    store : CandleStore
    pair, timeframe : str
    since_ms, until_ms : int
        UTC milliseconds.
    on_progress : callable, optional
        Called with the number of candles fetched by each request.

    Raises
    ------
    ExchangeError
        When ccxt fails (the message names pair and timeframe).
    """
    import ccxt.async_support as ccxt_async

    step = timeframe_to_msecs(timeframe)
    clock = now_ms or (lambda: int(time.time() * 1000))
    existing = None
    try:
        existing = store.load(pair, timeframe, candle_type)
    except DataError:
        existing = None
    if existing is not None and len(existing):
        since_ms = max(since_ms, int(existing["date"].iloc[-1].value // 1_000_000) + step)
    end = min(until_ms if until_ms is not None else clock(), clock())
    rows: list[list[Any]] = []
    requests = 0
    since = since_ms
    while since < end:
        try:
            page = await exchange.fetch_ohlcv(pair, timeframe, since=since, limit=limit)
        except ccxt_async.NetworkError as exc:
            raise TemporaryExchangeError(f"{pair} {timeframe}: {exc}") from None
        except ccxt_async.BaseError as exc:
            raise ExchangeError(f"{pair} {timeframe}: {exc}") from None
        requests += 1
        page = [r for r in page if r[0] >= since]
        if on_progress is not None:
            on_progress(len(page))
        if not page:
            break
        rows.extend(page)
        since = int(page[-1][0]) + step
    now = clock()
    rows = [r for r in rows if r[0] + step <= now and (until_ms is None or r[0] <= until_ms)]
    new = _to_frame(rows) if rows else None
    if new is not None and len(new):
        store.append(pair, timeframe, new, candle_type)
    total = store.load(pair, timeframe, candle_type) if (new is not None or existing is not None) \
        else None
    report = validate_ohlcv(total, pair, timeframe) if total is not None and len(total) else None
    return DownloadReport(
        pair=pair, timeframe=timeframe, new_candles=0 if new is None else len(new),
        total_candles=0 if total is None else len(total), requests=requests,
        first=None if total is None or not len(total) else total["date"].iloc[0],
        last=None if total is None or not len(total) else total["date"].iloc[-1],
        gaps=0 if report is None else report.gaps,
        missing_candles=0 if report is None else report.missing_candles,
    )

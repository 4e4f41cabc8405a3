"""HTTP helpers shared by the live collectors and the LLM client (``requests``, always with a timeout)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from atb.core.extras import require
from atb.errors import DataError
from atb.sentiment.models import NewsItem

__all__ = ["finish", "request_bytes", "request_json", "utc_now"]


def utc_now() -> datetime:
    """Return the wall-clock time, tz-aware UTC (the default clock of live collectors)."""
    return datetime.now(UTC)


def request_bytes(method: str, url: str, *, source: str, timeout: float, params: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None, body: Any = None) -> bytes:
    """Send one request and return the body; any transport error or HTTP status >= 400 -> DataError.

    Raises
    ------
    DataError
        Naming ``source`` and the URL: connection failure, timeout, or an error status.
    """
    requests = require("requests", "sentiment", source)
    try:
        resp = requests.request(method, url, params=params, headers=headers, json=body, timeout=timeout)
    except requests.RequestException as exc:
        raise DataError(f"{source}: request to {url} failed ({type(exc).__name__}: {exc})") from exc
    if resp.status_code >= 400:
        raise DataError(f"{source}: HTTP {resp.status_code} from {url}")
    content: bytes = resp.content
    return content


def request_json(method: str, url: str, *, source: str, timeout: float, params: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None, body: Any = None) -> Any:
    """Like :func:`request_bytes`, decoding the body as JSON (a non-JSON body -> DataError)."""
    raw = request_bytes(method, url, source=source, timeout=timeout, params=params, headers=headers,
                        body=body)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{source}: field <body>: response from {url} is not JSON ({exc})") from exc


def finish(items: list[NewsItem]) -> list[NewsItem]:
    """De-duplicate by id (the earliest ``available_at`` wins) and sort by available_at, published_at, id."""
    best: dict[str, NewsItem] = {}
    for it in items:
        seen = best.get(it.id)
        if seen is None or (it.available_at, it.published_at) < (seen.available_at, seen.published_at):
            best[it.id] = it
    return sorted(best.values(), key=lambda i: (i.available_at, i.published_at, i.id))

"""Event classification by any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, ...).

``POST {base_url}/chat/completions`` with a JSON-only instruction; the answer
``choices[0].message.content`` must be a JSON object ``{"category", "severity", "assets"}``. Anything else
is a :class:`~atb.errors.DataError`, so :func:`atb.sentiment.events.detect` falls back to the rules.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from atb.errors import ConfigError, DataError
from atb.sentiment._http import request_json
from atb.sentiment.models import Event, EventCategory, NewsItem, Severity

__all__ = ["EVENT_INSTRUCTION", "LlmEventClassifier"]

#: System prompt sent with every item.
EVENT_INSTRUCTION = (
    "You classify one crypto news item into a market-moving event. Answer with ONLY a JSON object, no "
    'prose: {"category": one of "hack", "regulation", "token_unlock", "listing", "delisting", "outage", '
    '"none"; "severity": one of "low", "medium", "high", "critical"; "assets": list of upper-case base '
    'asset tickers concerned (e.g. ["BTC"]), empty if market-wide}. Use "critical" only for events likely '
    "to move the asset's price sharply (large exchange hack, delisting of the asset from a major venue)."
)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


class LlmEventClassifier:
    """An :class:`~atb.sentiment.ports.EventClassifier` backed by an OpenAI-compatible chat endpoint.

    Parameters
    ----------
    base_url : str
        API root, e.g. ``https://api.openai.com/v1`` or ``http://127.0.0.1:11434/v1``.
    model : str
        Model name sent in the request.
    api_key_env : str, optional
        Environment variable with the API key (sent as ``Authorization: Bearer``); ``None`` sends none.
    timeout : float
        Seconds per request.
    json_mode : bool
        Send ``response_format={"type": "json_object"}`` (turn off for servers that reject it).

    Raises
    ------
    ConfigError
        ``api_key_env`` is set but the variable is missing, or ``timeout <= 0``.
    """

    name = "llm"

    def __init__(self, base_url: str, model: str, *, api_key_env: str | None = None, timeout: float = 30.0,
                 json_mode: bool = True) -> None:
        if not timeout > 0:
            raise ConfigError(f"timeout: {timeout} must be > 0")
        self._headers = {"Content-Type": "application/json"}
        if api_key_env is not None:
            key = os.environ.get(api_key_env)
            if not key:
                raise ConfigError(f"api_key_env: environment variable {api_key_env} is not set")
            self._headers["Authorization"] = f"Bearer {key}"
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.timeout, self.json_mode = model, timeout, json_mode
        self.source = f"llm:{model}"

    def request_body(self, item: NewsItem) -> dict[str, Any]:
        """Return the chat-completions request for ``item`` (temperature 0)."""
        body: dict[str, Any] = {
            "model": self.model, "temperature": 0,
            "messages": [{"role": "system", "content": EVENT_INSTRUCTION},
                         {"role": "user", "content": f"Title: {item.title}\nText: {item.text}"}],
        }
        if self.json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    def classify(self, item: NewsItem) -> Event | None:
        """Ask the model about ``item``; return its event (detector ``"llm"``) or ``None`` for "none".

        Raises
        ------
        DataError
            Transport failure, HTTP error status, or an answer that is not the expected JSON; the message
            names the field.
        """
        payload = request_json("POST", self.url, source=self.source, timeout=self.timeout,
                               headers=self._headers, body=self.request_body(item))
        answer = parse_answer(payload, self.source)
        if answer is None:
            return None
        category, severity, assets = answer
        return Event.from_item(item, category=category, severity=severity, detector="llm",
                               assets=assets or item.assets, evidence=("llm",))


def _content(payload: Any, source: str) -> str:
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise DataError(f"{source}: field choices[0].message.content: missing") from exc
    if not isinstance(content, str):
        raise DataError(f"{source}: field choices[0].message.content: expected a string")
    return content


def parse_answer(payload: Any, source: str = "llm") -> tuple[EventCategory, Severity, tuple[str, ...]] | None:
    """Validate a chat-completions response; return ``(category, severity, assets)`` or ``None`` ("none").

    Raises
    ------
    DataError
        Missing content, content not a JSON object, or an invalid ``category``/``severity``/``assets``.
    """
    content = _FENCE.sub("", _content(payload, source).strip())
    try:
        answer = json.loads(content)
    except json.JSONDecodeError as exc:
        raise DataError(f"{source}: field choices[0].message.content: not JSON ({content[:80]!r})") from exc
    if not isinstance(answer, dict):
        raise DataError(f"{source}: field choices[0].message.content: expected a JSON object")
    cat = str(answer.get("category", "")).strip().lower()
    if cat == "none":
        return None
    try:
        category = EventCategory(cat)
    except ValueError as exc:
        raise DataError(f"{source}: field category: {answer.get('category')!r} is not one of "
                        f"{[c.value for c in EventCategory] + ['none']}") from exc
    sev = answer.get("severity")
    if not isinstance(sev, str) or sev.strip().upper() not in Severity.__members__:
        raise DataError(f"{source}: field severity: {sev!r} is not one of low, medium, high, critical")
    assets = answer.get("assets", [])
    if not isinstance(assets, list) or not all(isinstance(a, str) and a.strip() for a in assets):
        raise DataError(f"{source}: field assets: expected a list of tickers, got {assets!r}")
    return category, Severity[sev.strip().upper()], tuple(sorted({a.strip().upper() for a in assets}))

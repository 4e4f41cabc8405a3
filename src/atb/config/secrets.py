"""Exchange API keys: only from environment variables or a private secrets file; redaction for logs.

Keys never live in the main config file (it is shared, committed, pasted into issues).
:func:`load_credentials` looks, in this order, at

1. ``ATB__EXCHANGE__<ID>__KEY`` / ``__SECRET`` / ``__PASSWORD`` (``<ID>`` is the ccxt id in upper
   case, ``-`` as ``_``: ``ATB__EXCHANGE__BINANCE__KEY``);
2. freqtrade's ``FREQTRADE__EXCHANGE__KEY`` / ``__SECRET`` / ``__PASSWORD`` (venue-agnostic);
3. a JSON secrets file ``{"binance": {"key": "...", "secret": "...", "password": "..."}}``
   (path given, or ``ATB__SECRETS_FILE``), which must be readable by its owner only (``chmod 600``).

:func:`reject_keys_in_config` refuses a config whose ``exchange`` section carries keys and says
where to put them. :class:`Credentials` redacts its values in ``repr``; :func:`redact` removes them
from any text (log lines, error messages).

Examples
--------
>>> creds = load_credentials("binance", environ={"ATB__EXCHANGE__BINANCE__KEY": "k-123456",
...                                              "ATB__EXCHANGE__BINANCE__SECRET": "s-abcdef"})
>>> creds
Credentials(exchange_id='binance', key='***', secret='***', password=None, source='env')
>>> redact("signed with k-123456", creds)
'signed with ***'
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atb.errors import ConfigError

__all__ = [
    "SECRETS_FILE_ENV", "Credentials", "env_var_names", "load_credentials", "redact",
    "reject_keys_in_config",
]

#: Environment variable naming the secrets file when no path is given.
SECRETS_FILE_ENV = "ATB__SECRETS_FILE"
_FIELDS = ("key", "secret", "password")
#: Names under ``exchange`` (and its ccxt config dicts) that must not hold a value in a config file.
_SECRET_NAMES = frozenset({"key", "secret", "password", "apikey", "api_key", "privatekey", "uid",
                           "walletaddress"})
_MASK = "***"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Credentials:
    """API credentials of one venue; ``repr`` shows ``***`` instead of the values.

    Attributes
    ----------
    exchange_id : str
        ccxt exchange id.
    key, secret : str
        API key and secret.
    password : str or None
        Passphrase (okx, kucoin, coinbase legacy), None when the venue has none.
    source : str
        Where they came from: ``"env"``, ``"env:freqtrade"`` or ``"file:<path>"``.
    """

    exchange_id: str
    key: str
    secret: str
    password: str | None = None
    source: str = "env"

    def __repr__(self) -> str:
        password = None if self.password is None else _MASK
        return (f"Credentials(exchange_id={self.exchange_id!r}, key={_MASK!r}, secret={_MASK!r}, "
                f"password={password!r}, source={self.source!r})")

    __str__ = __repr__

    def values(self) -> tuple[str, ...]:
        """The secret values (non-empty), for redaction."""
        return tuple(v for v in (self.key, self.secret, self.password) if v)

    def ccxt_config(self) -> dict[str, str]:
        """``apiKey``/``secret``/``password`` for a ccxt exchange constructor."""
        cfg = {"apiKey": self.key, "secret": self.secret}
        if self.password:
            cfg["password"] = self.password
        return cfg


def env_var_names(exchange_id: str) -> dict[str, str]:
    """The environment variable per field for ``exchange_id``.

    Examples
    --------
    >>> env_var_names("binance")["key"]
    'ATB__EXCHANGE__BINANCE__KEY'
    """
    stem = "ATB__EXCHANGE__" + exchange_id.upper().replace("-", "_").replace(".", "_")
    return {f: f"{stem}__{f.upper()}" for f in _FIELDS}


def _from_env(exchange_id: str, environ: Mapping[str, str]) -> Credentials | None:
    own = env_var_names(exchange_id)
    freqtrade = {f: f"FREQTRADE__EXCHANGE__{f.upper()}" for f in _FIELDS}
    for names, source in ((own, "env"), (freqtrade, "env:freqtrade")):
        values = {f: environ.get(n, "") for f, n in names.items()}
        if not values["key"] and not values["secret"]:
            continue
        for f in ("key", "secret"):
            if not values[f]:
                other = "secret" if f == "key" else "key"
                raise ConfigError(f"{names[other]} is set but {names[f]} is missing or empty")
        return Credentials(exchange_id=exchange_id, key=values["key"], secret=values["secret"],
                           password=values["password"] or None, source=source)
    return None


def _check_private(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"secrets file not found: {path}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"secrets file {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
            f"restrict it to its owner: chmod 600 {path}")


def _from_file(exchange_id: str, path: Path) -> Credentials | None:
    _check_private(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"secrets file {path}: invalid JSON at line {exc.lineno} column {exc.colno}") \
            from None
    except OSError as exc:
        raise ConfigError(f"cannot read secrets file {path}: {exc.strerror}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"secrets file {path}: top level must be an object keyed by exchange id")
    entry = raw.get(exchange_id)
    if entry is None:
        return None
    if not isinstance(entry, dict) or not entry.get("key") or not entry.get("secret"):
        raise ConfigError(f"secrets file {path}: '{exchange_id}' needs non-empty 'key' and 'secret'")
    unknown = set(entry) - set(_FIELDS)
    if unknown:
        raise ConfigError(f"secrets file {path}: unknown field(s) in '{exchange_id}': "
                          f"{', '.join(sorted(unknown))} (allowed: key, secret, password)")
    return Credentials(exchange_id=exchange_id, key=str(entry["key"]), secret=str(entry["secret"]),
                       password=str(entry["password"]) if entry.get("password") else None,
                       source=f"file:{path}")


def load_credentials(exchange_id: str, *, environ: Mapping[str, str] | None = None,
                     secrets_file: str | Path | None = None) -> Credentials | None:
    """Credentials of ``exchange_id`` from the environment, else from the secrets file.

    Parameters
    ----------
    exchange_id : str
        ccxt exchange id.
    environ : mapping, optional
        Environment to read (default ``os.environ``).
    secrets_file : str or Path, optional
        JSON secrets file; default: the path in ``ATB__SECRETS_FILE`` if set.

    Returns
    -------
    Credentials or None
        None when no source has keys for this venue (public endpoints only).

    Raises
    ------
    ConfigError
        Half-set environment (key without secret), a secrets file readable by group/others, a
        missing or malformed secrets file, or an incomplete entry in it.
    """
    env = os.environ if environ is None else environ
    creds = _from_env(exchange_id, env)
    if creds is not None:
        return creds
    path = secrets_file if secrets_file is not None else env.get(SECRETS_FILE_ENV) or None
    if path is None:
        return None
    return _from_file(exchange_id, Path(path))


def _find_secrets(node: Any, path: str) -> list[str]:
    found: list[str] = []
    if isinstance(node, Mapping):
        for name, value in node.items():
            where = f"{path}.{name}"
            if str(name).lower() in _SECRET_NAMES and isinstance(value, str) and value:
                found.append(where)
            else:
                found.extend(_find_secrets(value, where))
    return found


def reject_keys_in_config(raw: Mapping[str, Any], source: str = "config") -> None:
    """Refuse API keys inside a config file's ``exchange`` section.

    Empty strings (freqtrade's template has ``"key": ""``) are accepted.

    Raises
    ------
    ConfigError
        Naming the offending fields and the environment variables / secrets file to use instead.

    Examples
    --------
    >>> reject_keys_in_config({"exchange": {"name": "binance", "key": ""}})
    >>> reject_keys_in_config({"exchange": {"name": "binance", "secret": "abc"}}, "config.json")
    Traceback (most recent call last):
    ...
    atb.errors.ConfigError: config.json: 'exchange.secret' must not be in the config file; ...
    """
    section = raw.get("exchange")
    found = _find_secrets(section, "exchange")
    if not found:
        return
    venue = str(section.get("name", "<id>")) if isinstance(section, Mapping) else "<id>"
    names = env_var_names(venue)
    fields = ", ".join(f"'{f}'" for f in found)
    raise ConfigError(
        f"{source}: {fields} must not be in the config file; remove it and set {names['key']} / "
        f"{names['secret']} (/ {names['password']}) in the environment, or put "
        f'{{"{venue}": {{"key": ..., "secret": ...}}}} in a secrets file readable only by you '
        f"(chmod 600) named by {SECRETS_FILE_ENV}")


def redact(text: str, credentials: Credentials | Iterable[Credentials] | None) -> str:
    """``text`` with every credential value replaced by ``***``.

    Parameters
    ----------
    text : str
        A log line or message.
    credentials : Credentials, iterable of Credentials, or None
        Whose values to remove.
    """
    if credentials is None:
        return text
    items = (credentials,) if isinstance(credentials, Credentials) else tuple(credentials)
    values = sorted({v for c in items for v in c.values()}, key=len, reverse=True)
    for value in values:
        text = text.replace(value, _MASK)
    return text

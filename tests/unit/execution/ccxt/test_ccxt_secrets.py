"""Credentials: env vars, freqtrade env vars, private secrets file, redaction, keys in config refused."""

from __future__ import annotations

import json

import pytest

from atb.config.secrets import Credentials, env_var_names, load_credentials, redact, reject_keys_in_config
from atb.errors import ConfigError

ENV = {"ATB__EXCHANGE__BINANCE__KEY": "key-aaaaaaaa", "ATB__EXCHANGE__BINANCE__SECRET": "sec-bbbbbbbb"}


def test_from_atb_env_vars():
    creds = load_credentials("binance", environ={**ENV, "ATB__EXCHANGE__BINANCE__PASSWORD": "pw-cccc"})
    assert creds is not None
    assert (creds.key, creds.secret, creds.password, creds.source) == ("key-aaaaaaaa", "sec-bbbbbbbb",
                                                                      "pw-cccc", "env")
    assert creds.ccxt_config() == {"apiKey": "key-aaaaaaaa", "secret": "sec-bbbbbbbb", "password": "pw-cccc"}


def test_env_names_and_ids_with_dashes():
    assert env_var_names("binance-us")["secret"] == "ATB__EXCHANGE__BINANCE_US__SECRET"


def test_from_freqtrade_env_vars_and_precedence():
    ft = {"FREQTRADE__EXCHANGE__KEY": "ft-key-1", "FREQTRADE__EXCHANGE__SECRET": "ft-sec-1"}
    creds = load_credentials("kraken", environ=ft)
    assert creds is not None and creds.key == "ft-key-1" and creds.source == "env:freqtrade"
    creds = load_credentials("binance", environ={**ft, **ENV})
    assert creds is not None and creds.key == "key-aaaaaaaa"


def test_half_set_env_is_an_error():
    with pytest.raises(ConfigError, match="ATB__EXCHANGE__BINANCE__SECRET is missing"):
        load_credentials("binance", environ={"ATB__EXCHANGE__BINANCE__KEY": "k"})


def test_nothing_configured_is_none():
    assert load_credentials("binance", environ={}) is None


def _write(path, data, mode):
    path.write_text(json.dumps(data))
    path.chmod(mode)
    return path


def test_secrets_file_0600(tmp_path):
    path = _write(tmp_path / "secrets.json", {"binance": {"key": "fk-1234", "secret": "fs-5678"}}, 0o600)
    creds = load_credentials("binance", environ={}, secrets_file=path)
    assert creds is not None and creds.key == "fk-1234" and creds.source == f"file:{path}"
    assert load_credentials("kraken", environ={}, secrets_file=path) is None
    creds = load_credentials("binance", environ={"ATB__SECRETS_FILE": str(path)})
    assert creds is not None and creds.secret == "fs-5678"


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o640])
def test_secrets_file_readable_by_others_is_refused(tmp_path, mode):
    path = _write(tmp_path / "secrets.json", {"binance": {"key": "k", "secret": "s"}}, mode)
    with pytest.raises(ConfigError, match=r"readable by other users.*chmod 600"):
        load_credentials("binance", environ={}, secrets_file=path)


def test_secrets_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_credentials("binance", environ={}, secrets_file=tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    bad.chmod(0o600)
    with pytest.raises(ConfigError, match="invalid JSON at line 1"):
        load_credentials("binance", environ={}, secrets_file=bad)
    path = _write(tmp_path / "s.json", {"binance": {"key": "k"}}, 0o600)
    with pytest.raises(ConfigError, match="needs non-empty 'key' and 'secret'"):
        load_credentials("binance", environ={}, secrets_file=path)
    path = _write(tmp_path / "t.json", {"binance": {"key": "k", "secret": "s", "apikey": "x"}}, 0o600)
    with pytest.raises(ConfigError, match="unknown field"):
        load_credentials("binance", environ={}, secrets_file=path)


def test_repr_and_str_redact():
    creds = Credentials(exchange_id="binance", key="key-aaaaaaaa", secret="sec-bbbbbbbb", password="pw-1")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "key-aaaaaaaa" not in text and "sec-bbbbbbbb" not in text and "pw-1" not in text
    assert "***" in repr(creds)


def test_redact_text():
    creds = Credentials(exchange_id="binance", key="key-aaaaaaaa", secret="sec-bbbbbbbb")
    other = Credentials(exchange_id="kraken", key="kr-key-9999", secret="kr-sec-9999")
    line = "GET /order?apiKey=key-aaaaaaaa sig from sec-bbbbbbbb and kr-key-9999"
    assert redact(line, creds) == "GET /order?apiKey=*** sig from *** and kr-key-9999"
    assert "kr-key-9999" not in redact(line, [creds, other])
    assert redact(line, None) == line


def test_keys_in_the_config_file_are_refused_with_directions():
    reject_keys_in_config({"exchange": {"name": "binance", "key": "", "secret": ""}})
    reject_keys_in_config({"api_server": {"password": "dashboard-pass"}})  # not an exchange key
    with pytest.raises(ConfigError) as info:
        reject_keys_in_config({"exchange": {"name": "binance", "key": "abc", "secret": "def"}}, "config.json")
    msg = str(info.value)
    assert "config.json" in msg and "'exchange.key'" in msg and "'exchange.secret'" in msg
    assert "ATB__EXCHANGE__BINANCE__KEY" in msg and "chmod 600" in msg and "ATB__SECRETS_FILE" in msg
    assert "abc" not in msg and "def" not in msg
    with pytest.raises(ConfigError, match="exchange.ccxt_config.apiKey"):
        reject_keys_in_config({"exchange": {"name": "okx", "ccxt_config": {"apiKey": "zzz"}}})

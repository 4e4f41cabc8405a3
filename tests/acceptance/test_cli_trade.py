"""``atb trade``: paper replay end to end, restart without duplicates, live-mode refusals."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atb.cli.main import app, main
from atb.persistence.db import create_db_engine, create_session_factory
from atb.persistence.order_store import SqlOrderStore

_REPO = Path(__file__).resolve().parents[2]
_SHARED = Path(os.environ.get("ATB_SHARED_DIR", _REPO.parent / "shared"))
CASE = _SHARED / "parity" / "cases" / "rsi_bb_meanrev__binance_1h"


def _args(userdir: Path, *extra: str) -> list[str]:
    return ["trade", "-c", str(CASE / "config.json"), "-s", "RsiBbMeanReversion",
            "--strategy-path", str(_SHARED / "parity" / "strategies"), "--pairs", "BTC/USDT",
            "--pairs", "ETH/USDT", "--datadir", str(_SHARED / "data" / "binance"),
            "--userdir", str(userdir), *extra]


def _cli(args: list[str], capsys) -> tuple[int, str]:
    """The real entry point (errors -> one line, status 2)."""
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out + out.err


def _store(userdir: Path):
    engine = create_db_engine(None, userdir)
    return engine, SqlOrderStore(create_session_factory(engine))


def test_paper_replay_then_restart_sends_nothing_twice(tmp_path: Path) -> None:
    risk = tmp_path / "risk.json"
    risk.write_text(json.dumps({"rules": []}))
    first = CliRunner().invoke(app, _args(tmp_path, "--replay", "--timerange", "20250101-20250115",
                                          "--risk-config", str(risk)))
    assert first.exit_code == 0, first.output + repr(first.exception)
    assert "paper replay" in first.output and "--risk-config" in first.output
    engine, store = _store(tmp_path)
    closed = store.closed_trades("RsiBbMeanReversion")
    orders = store.orders("RsiBbMeanReversion")
    assert len(closed) >= 5
    assert all(o.status.value == "filled" for o in orders)
    decisions = store.decisions("RsiBbMeanReversion")
    assert {d.action for d in decisions} >= {"entry", "exit"}
    assert all(d.risk_verdict == "approved" for d in decisions if d.action == "entry")
    engine.dispose()
    # the same command again: every candle is already processed (checkpoint), nothing is sent
    again = CliRunner().invoke(app, _args(tmp_path, "--replay", "--timerange", "20250101-20250115",
                                          "--risk-config", str(risk)))
    assert again.exit_code == 0, again.output + repr(again.exception)
    assert "candles: 0" in again.output
    engine, store = _store(tmp_path)
    assert len(store.orders("RsiBbMeanReversion")) == len(orders)
    engine.dispose()


def test_live_needs_the_acknowledgement_flag(tmp_path: Path, capsys) -> None:
    code, output = _cli(_args(tmp_path, "--live"), capsys)
    assert code == 2
    assert "--i-understand-live-risk" in output
    assert not (tmp_path / "atb.sqlite").exists()


def test_live_needs_keys_from_the_environment(tmp_path: Path, capsys, monkeypatch) -> None:
    for k in list(os.environ):
        if "EXCHANGE__" in k or k == "ATB__SECRETS_FILE":
            monkeypatch.delenv(k)
    code, output = _cli(_args(tmp_path, "--live", "--i-understand-live-risk"), capsys)
    assert code == 2
    assert "ATB__EXCHANGE__BINANCE__KEY" in output
    assert not (tmp_path / "atb.sqlite").exists()


def test_keys_in_the_config_file_are_refused(tmp_path: Path, capsys) -> None:
    cfg = json.loads((CASE / "config.json").read_text())
    cfg["exchange"]["secret"] = "do-not-put-me-here"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    args = _args(tmp_path, "--live", "--i-understand-live-risk")
    args[args.index("-c") + 1] = str(path)
    code, output = _cli(args, capsys)
    assert code == 2
    assert "exchange.secret" in output
    assert "do-not-put-me-here" not in output
    assert not (tmp_path / "atb.sqlite").exists()


def test_bad_bots_section_names_the_field(tmp_path: Path, capsys) -> None:
    cfg = json.loads((CASE / "config.json").read_text())
    cfg["bots"] = [{"id": "a", "strategy": "RsiBbMeanReversion", "wallet": -5}]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    args = _args(tmp_path, "--replay", "--timerange", "20250101-20250103")
    args[args.index("-c") + 1] = str(path)
    code, output = _cli(args, capsys)
    assert code == 2
    assert "bots[0].wallet" in output


def test_sighup_reload_reads_parameters_from_the_config(tmp_path: Path) -> None:
    from rich.console import Console

    from atb.cli.commands.trade import reload_parameters
    from atb.errors import ConfigError
    from atb.live.node import parse_bots

    cfg = json.loads((CASE / "config.json").read_text())
    cfg["strategy_parameters"] = {"stoploss": -0.05}
    cfg["bots"] = [{"id": "a", "strategy": "RsiBbMeanReversion", "pairs": ["BTC/USDT"]},
                   {"id": "b", "strategy": "RsiBbMeanReversion", "pairs": ["ETH/USDT"],
                    "parameters": {"stoploss": -0.02}}]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    bots = parse_bots(cfg, None, [])

    class Engine:
        def __init__(self) -> None:
            self.calls: list[tuple[str, dict]] = []

        def reload(self, sid: str, params: dict) -> None:
            if "bad" in params:
                raise ConfigError(f"reload: strategy {sid} has no parameter 'bad'")
            self.calls.append((sid, params))

    console = Console(file=open(tmp_path / "out.txt", "w"), width=200)
    engine = Engine()
    assert reload_parameters(engine, path, bots, console) == 2
    assert engine.calls == [("a", {"stoploss": -0.05}), ("b", {"stoploss": -0.02})]
    # the file is edited while trading: the next SIGHUP picks it up
    cfg["bots"][0]["parameters"] = {"stoploss": -0.03, "bad": 1}
    path.write_text(json.dumps(cfg))
    engine.calls.clear()
    assert reload_parameters(engine, path, bots, console) == 1
    assert engine.calls == [("b", {"stoploss": -0.02})]
    # a broken file changes nothing
    path.write_text("{not json")
    assert reload_parameters(engine, path, bots, console) == 0
    console.file.close()
    assert "reload ignored" in (tmp_path / "out.txt").read_text()

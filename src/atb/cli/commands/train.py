"""``atb train``: walk-forward evaluation and a registered model, or an RL policy (``--rl``).

ML (default): for each pair, the :mod:`atb.ml.pipeline` walk-forward (the same one ``MLBasic``
runs inside a backtest) prints out-of-sample accuracy, AUC, Brier score and log-loss; then a
final model is fitted on the latest training window, exported to ONNX (parity with the native
model checked to 1e-5) and registered in ``<userdir>/models`` with its features, training
range, metrics and hash, mirrored in the run store. ``--rl`` trains a stable-baselines3 policy
(:func:`atb.rl.train_policy`) on the pair's candles and registers it the same way.

Every input is validated before anything is written; a failing run leaves no model behind.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import typer

from atb.errors import ConfigError

__all__ = ["register"]


def _ml_section(config_path: Path | None, ml_config: Path | None) -> dict[str, Any]:
    """The ``ml`` section: ``--ml-config`` JSON file, else the config file's ``ml`` key, else {}."""
    if ml_config is not None:
        try:
            data = json.loads(Path(ml_config).read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"--ml-config {ml_config}: cannot read JSON: {exc}") from None
        return data
    if config_path is not None:
        from atb.config.freqtrade import load_freqtrade_config

        return dict(load_freqtrade_config(config_path).get("ml") or {})
    return {}


def _candles(datadir: Path, pairs: list[str], timeframe: str, timerange: str | None) -> dict[str, Any]:
    from atb.data.history import load_data
    from atb.data.timerange import TimeRange

    tr = TimeRange.parse(timerange) if timerange else None
    return load_data(datadir, pairs, timeframe, timerange=tr)


def _registry(userdir: Path, db_url: str | None) -> Any:
    from atb.ml.registry import ModelRegistry
    from atb.persistence.db import create_db_engine, create_session_factory
    from atb.persistence.model_store import SqlModelIndex

    index = SqlModelIndex(create_session_factory(create_db_engine(db_url, userdir)))
    return ModelRegistry(userdir / "models", index=index)


def _print_metrics(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="WALK-FORWARD OUT-OF-SAMPLE", title_style="bold")
    cols = ("pair", "windows", "n", "accuracy", "auc", "brier", "log_loss")
    for c in cols:
        table.add_column(c, justify="left" if c == "pair" else "right")
    for r in rows:
        table.add_row(*(f"{r[c]:.4f}" if isinstance(r[c], float) else str(r[c]) for c in cols))
    console = Console()
    (console if console.is_terminal else Console(width=160)).print(table)


def _save_final(final: Any, candles: Any, config: Any, pair: str, timeframe: str,
                informative: dict[str, Any], out: Path) -> float:
    """Native model, ONNX export (parity-checked), features and normaliser into ``out``."""
    import numpy as np

    from atb.features import Normalizer
    from atb.ml.onnx_export import export_onnx
    from atb.ml.pipeline import make_dataset

    final.model.save(out)
    ds = make_dataset(candles, config, timeframe=timeframe, informative=informative)
    probe = ds.X.dropna().iloc[-256:]
    if final.normaliser is not None:
        probe = Normalizer.from_dict(final.normaliser).transform(probe)
    exported = export_onnx(final.model, len(final.features), out / "model.onnx",
                           probe=probe.to_numpy(dtype=np.float64))
    (out / "features.json").write_text(json.dumps(final.features))
    if final.normaliser is not None:
        (out / "normaliser.json").write_text(json.dumps(final.normaliser))
    return float(exported.max_abs_diff)


def train_ml(*, pairs: list[str], timeframe: str, datadir: Path, timerange: str | None,
             section: dict[str, Any], userdir: Path, name: str, db_url: str | None,
             register_model: bool) -> list[dict[str, Any]]:
    """Walk-forward report and (optionally) registered final models; returns the report rows.

    Models are fitted and exported into a temporary folder first; the registry and the run
    store are only touched once every pair has succeeded.
    """
    from atb.ml.pipeline import fit_final, load_ml_config, run_walk_forward

    config = load_ml_config(section)
    corr = list(config.features.correlated_pairs)
    data = _candles(datadir, sorted(set(pairs) | set(corr)), timeframe, timerange)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        staged = []
        for pair in pairs:
            pair_cfg = config.model_copy(update={"features": config.features.model_copy(
                update={"correlated_pairs": [p for p in corr if p != pair]})})
            informative = {p: data[p] for p in corr if p != pair}
            run = run_walk_forward(data[pair], pair_cfg, timeframe=timeframe, informative=informative)
            m = run.result.oos_metrics
            rows.append({"pair": pair, "windows": len(run.result.window_metrics), "n": int(m["n"]),
                         **{k: float(m[k]) for k in ("accuracy", "auc", "brier", "log_loss")}})
            if register_model:
                final = fit_final(data[pair], pair_cfg, timeframe=timeframe, informative=informative)
                out = Path(tmp) / pair.replace("/", "_")
                diff = _save_final(final, data[pair], pair_cfg, pair, timeframe, informative, out)
                staged.append((pair, pair_cfg, final, out, diff, rows[-1]))
        _print_metrics(rows)
        if staged:
            registry = _registry(userdir, db_url)
            for pair, pair_cfg, final, out, diff, row in staged:
                record = registry.register(
                    f"{name}-{pair.replace('/', '_')}", out, kind=config.model.kind,
                    task="classification", features=final.features,
                    train_start=final.train_start.to_pydatetime(),
                    train_end=final.train_end.to_pydatetime(), metrics=dict(row),
                    params=pair_cfg.model_dump(mode="json"),
                    extra={"pair": pair, "timeframe": timeframe, "onnx_max_abs_diff": diff,
                           "n_train": final.n_train})
                row["registered"] = f"{record.name} v{record.version}"
                typer.echo(f"Registered {row['registered']} ({pair}); ONNX max |diff| {diff:.2e}")
    return rows


def train_rl(*, pair: str, timeframe: str, datadir: Path, timerange: str | None,
             section: dict[str, Any], userdir: Path, name: str, db_url: str | None) -> Any:
    """Train an RL policy on one pair and register it; returns the registry record."""
    from atb.rl import load_rl_config, train_policy

    config = load_rl_config(section)
    candles = _candles(datadir, [pair], timeframe, timerange)[pair]
    registry = _registry(userdir, db_url)
    with tempfile.TemporaryDirectory() as tmp:
        policy = train_policy(candles, config, out_dir=Path(tmp) / "policy", pair=pair,
                              timeframe=timeframe)
        record = registry.register(
            f"{name}-{pair.replace('/', '_')}", Path(tmp) / "policy",
            kind=f"rl-{config.algorithm}", task="policy", features=[],
            train_start=policy.train_start, train_end=policy.train_end,
            metrics=dict(policy.metrics), params=config.model_dump(mode="json"),
            extra={"pair": pair, "timeframe": timeframe})
    typer.echo(f"Registered {record.name} v{record.version}: {record.path / 'policy.zip'}")
    return record


def register(app: typer.Typer) -> None:
    """Add ``atb train`` to ``app``."""

    @app.command("train")
    def train(
        pairs: list[str] = typer.Option(..., "--pairs", "-p", help="Pairs to train on"),
        timeframe: str = typer.Option("1h", "--timeframe", "-i"),
        datadir: Path = typer.Option(Path("user_data/data/binance"), "--datadir"),
        timerange: str | None = typer.Option(None, "--timerange"),
        config_path: Path | None = typer.Option(None, "--config", "-c",
                                                help="Config whose 'ml' (or 'rl') section is used"),
        ml_config: Path | None = typer.Option(None, "--ml-config", help="JSON file: ml/rl section"),
        rl: bool = typer.Option(False, "--rl", help="Train a reinforcement-learning policy"),
        userdir: Path = typer.Option(Path("user_data"), "--userdir", "--user-data-dir"),
        name: str = typer.Option("", "--name", help="Registry name prefix"),
        db_url: str | None = typer.Option(None, "--db-url"),
        no_register: bool = typer.Option(False, "--no-register",
                                         help="Only print the walk-forward report"),
    ) -> None:
        """Walk-forward train a model (or ``--rl`` a policy) and register it."""
        if not Path(datadir).is_dir():
            raise ConfigError(f"--datadir: not a folder: {datadir}")
        if rl:
            if len(pairs) != 1:
                raise ConfigError("--pairs: --rl trains on exactly one pair")
            section = _rl_section(config_path, ml_config)
            train_rl(pair=pairs[0], timeframe=timeframe, datadir=datadir, timerange=timerange,
                     section=section, userdir=userdir, name=name or "rl", db_url=db_url)
            return
        train_ml(pairs=list(pairs), timeframe=timeframe, datadir=datadir, timerange=timerange,
                 section=_ml_section(config_path, ml_config), userdir=userdir,
                 name=name or "mlbasic", db_url=db_url, register_model=not no_register)


def _rl_section(config_path: Path | None, file: Path | None) -> dict[str, Any]:
    if file is not None:
        return _ml_section(None, file)
    if config_path is not None:
        from atb.config.freqtrade import load_freqtrade_config

        return dict(load_freqtrade_config(config_path).get("rl") or {})
    return {}

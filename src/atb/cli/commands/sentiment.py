"""``atb sentiment train`` and ``atb sentiment evaluate``: a finance sentiment classifier against VADER.

``train`` fits TF-IDF + logistic regression on the train split of a ``label,text`` CSV (e.g. the
Financial PhraseBank), prints held-out accuracy and macro-F1 of the classifier and of VADER side by side,
and registers the artefact in ``<userdir>/models`` (``atb.ml.registry``). ``evaluate`` prints the same
comparison for a registered model. A bad data file prints one error line and exits 2; nothing is written.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import typer

__all__ = ["register"]

_DATA_HELP = "CSV with columns label,text (labels positive/neutral/negative)."


def _print_comparison(title: str, rows: list[tuple[str, float, float, int]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("Scorer", "Accuracy", "Macro-F1", "Texts"):
        table.add_column(col, justify="left" if col == "Scorer" else "right")
    for name, acc, f1, n in rows:
        table.add_row(name, f"{acc:.4f}", f"{f1:.4f}", str(n))
    Console().print(table)


def _train(data: Path, userdir: Path, name: str, seed: int, test_fraction: float) -> None:
    from atb.ml.registry import ModelRegistry
    from atb.sentiment.train import train_and_compare

    result = train_and_compare(data, seed=seed, test_fraction=test_fraction)
    clf, vader = result.classifier_report, result.vader_report
    _print_comparison(f"Held-out split of {data.name} ({result.n_test} texts, seed {seed})",
                      [(clf.scorer, clf.accuracy, clf.macro_f1, clf.n),
                       (vader.scorer, vader.accuracy, vader.macro_f1, vader.n)])
    now = datetime.now(UTC)
    metrics = {"accuracy": clf.accuracy, "macro_f1": clf.macro_f1,
               **{f"f1_{k}": v for k, v in clf.per_class_f1.items()},
               "vader_accuracy": vader.accuracy, "vader_macro_f1": vader.macro_f1, "n_test": float(clf.n)}
    params = {**result.classifier.params, "test_fraction": test_fraction, "n_test": result.n_test}
    with tempfile.TemporaryDirectory(prefix="atb-sentiment-") as tmp:
        result.classifier.save(Path(tmp))
        record = ModelRegistry(userdir / "models").register(
            name, Path(tmp), kind="tfidf-logreg", task="classification", features=[], train_start=now,
            train_end=now, metrics=metrics, params=params,
            extra={"data_file": str(data), "confusion_labels": list(clf.labels),
                   "confusion": [list(r) for r in clf.confusion],
                   "vader_confusion": [list(r) for r in vader.confusion]},
        )
    typer.echo(f"Registered {record.name} version {record.version} at {record.path}")


def _evaluate(data: Path, userdir: Path, name: str, version: int | None, seed: int, test_fraction: float,
              all_rows: bool) -> None:
    from atb.ml.registry import ModelRegistry
    from atb.sentiment.classifier import FinanceClassifier
    from atb.sentiment.scoring import VaderScorer
    from atb.sentiment.train import evaluate, load_labelled_sentences, train_test_split_stratified

    texts, labels = load_labelled_sentences(data)
    registry = ModelRegistry(userdir / "models")
    record = registry.get(name, version)
    registry.verify(record)
    model = FinanceClassifier.load(Path(record.path))
    if not all_rows:
        _, _, texts, labels = train_test_split_stratified(texts, labels, test_fraction=test_fraction,
                                                          seed=seed)
    clf, vader = evaluate(texts, labels, model), evaluate(texts, labels, VaderScorer())
    split = "all rows" if all_rows else f"held-out split, seed {seed}"
    _print_comparison(f"{record.name} v{record.version} on {data.name} ({split}, {len(texts)} texts)",
                      [(clf.scorer, clf.accuracy, clf.macro_f1, clf.n),
                       (vader.scorer, vader.accuracy, vader.macro_f1, vader.n)])


def register(app: typer.Typer) -> None:
    """Attach the ``sentiment`` sub-app (``train``, ``evaluate``) to the ``atb`` app."""
    sub = typer.Typer(name="sentiment", help="Train and evaluate news sentiment models.",
                      no_args_is_help=True)

    @sub.command("train")
    def train_cmd(
        data: Path = typer.Option(..., "--data", help=_DATA_HELP),
        userdir: Path = typer.Option(Path("user_data"), "--userdir", help="User directory (models/ inside)."),
        name: str = typer.Option("finance-sentiment", "--name", help="Registry name of the model."),
        seed: int = typer.Option(42, "--seed", help="Seed of the split and the solver."),
        test_fraction: float = typer.Option(0.2, "--test-fraction", help="Held-out share, in (0, 1)."),
    ) -> None:
        """Train TF-IDF + logistic regression, compare with VADER on held-out data, register it."""
        _train(data, userdir, name, seed, test_fraction)

    @sub.command("evaluate")
    def evaluate_cmd(
        data: Path = typer.Option(..., "--data", help=_DATA_HELP),
        model: str = typer.Option("finance-sentiment", "--model", help="Registry name of the model."),
        version: int | None = typer.Option(None, "--version", help="Model version (default: latest)."),
        userdir: Path = typer.Option(Path("user_data"), "--userdir", help="User directory (models/ inside)."),
        seed: int = typer.Option(42, "--seed", help="Seed of the held-out split (as used in train)."),
        test_fraction: float = typer.Option(0.2, "--test-fraction", help="Held-out share (as in train)."),
        all_rows: bool = typer.Option(False, "--all-rows", help="Evaluate every row (data not trained on)."),
    ) -> None:
        """Compare a registered classifier with VADER on the held-out split (or all rows) of a CSV."""
        _evaluate(data, userdir, model, version, seed, test_fraction, all_rows)

    app.add_typer(sub, name="sentiment")

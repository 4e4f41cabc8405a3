import json

import pytest

from atb.cli.main import main

pytest.importorskip("atb.ml.registry")


def _run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _figures(out, scorer):
    line = next(ln for ln in out.splitlines() if scorer in ln)
    nums = [tok for tok in line.replace("│", " ").split() if tok.replace(".", "", 1).isdigit()]
    return float(nums[0]), float(nums[1])


def test_train_and_evaluate_end_to_end(phrasebank, tmp_path, capsys):
    userdir = tmp_path / "user_data"
    code, out, err = _run(["sentiment", "train", "--data", str(phrasebank), "--userdir", str(userdir)],
                          capsys)
    assert code == 0, err
    clf_acc, clf_f1 = _figures(out, "finance-tfidf-logreg")
    vader_acc, vader_f1 = _figures(out, "vader")
    assert clf_acc > vader_acc and clf_f1 > vader_f1
    assert (clf_acc, clf_f1, vader_acc, vader_f1) == (0.7629, 0.7158, 0.5216, 0.4639)
    version_dir = userdir / "models" / "finance-sentiment" / "1"
    assert "Registered finance-sentiment version 1" in out
    meta = json.loads((version_dir / "metadata.json").read_text())
    assert meta["kind"] == "tfidf-logreg" and meta["task"] == "classification" and meta["features"] == []
    assert meta["metrics"]["accuracy"] == pytest.approx(clf_acc, abs=5e-5)
    assert meta["metrics"]["vader_macro_f1"] == pytest.approx(vader_f1, abs=5e-5)
    assert meta["train_start"] == meta["train_end"] and meta["train_start"].endswith("+00:00")
    assert sorted(meta["files"]) == ["coef.npy", "idf.npy", "intercept.npy", "model.json", "vocabulary.json"]

    code, out, err = _run(["sentiment", "evaluate", "--data", str(phrasebank), "--userdir", str(userdir),
                           "--model", "finance-sentiment"], capsys)
    assert code == 0, err
    assert _figures(out, "finance-tfidf-logreg") == (clf_acc, clf_f1)  # same held-out split, same model
    assert _figures(out, "vader") == (vader_acc, vader_f1)

    code, _, err = _run(["sentiment", "evaluate", "--data", str(phrasebank), "--userdir", str(userdir),
                         "--model", "nope"], capsys)
    assert code == 2 and err.count("\n") == 1 and "nope" in err


def test_bad_data_file_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("label,text\npositive,up\nbullish,moon\n", encoding="utf-8")
    userdir = tmp_path / "user_data"
    code, out, err = _run(["sentiment", "train", "--data", str(bad), "--userdir", str(userdir)], capsys)
    assert code == 2 and err.startswith("Error: ") and "row 2" in err and err.count("\n") == 1
    assert not userdir.exists()
    code, _, err = _run(["sentiment", "train", "--data", str(tmp_path / "missing.csv"),
                         "--userdir", str(userdir)], capsys)
    assert code == 2 and "missing.csv" in err and not userdir.exists()

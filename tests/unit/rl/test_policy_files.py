"""Saved policy files: corrupt metadata and hash mismatches are ModelErrors; failures write nothing."""

from __future__ import annotations

import json
import shutil

import pytest

from atb.errors import ConfigError, DataError, ModelError
from atb.rl import RLConfig, load_policy, train_policy

from ._data import synthetic


@pytest.fixture()
def policy_dir(ppo_policy, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(ppo_policy[0].directory, target)
    return target


def _edit(path, **changes):
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))


def test_corrupt_json_is_a_model_error_naming_the_file(policy_dir):
    (policy_dir / "policy.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"policy\.json: malformed JSON"):
        load_policy(policy_dir)


def test_hash_mismatch_is_a_model_error_naming_the_field(policy_dir):
    with open(policy_dir / "policy.zip", "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelError, match="field 'sha256'"):
        load_policy(policy_dir)


@pytest.mark.parametrize(("changes", "field"), [
    ({"sha256": 5}, "'sha256'"),
    ({"algorithm": "sac"}, "'algorithm'"),
    ({"config": {"window": 0}}, "config.window"),
    ({"config": {"colour": "red"}}, "config.colour"),
    ({"train_start": "yesterday"}, "'train_start'"),
    ({"format_version": 99}, "'format_version'"),
    ({"observation": {"window": 32}}, "'observation'"),
    ({"metrics": {"x": "high"}}, "'metrics'"),
])
def test_malformed_fields_name_the_field(policy_dir, changes, field):
    _edit(policy_dir / "policy.json", **changes)
    with pytest.raises(ModelError, match=field):
        load_policy(policy_dir)


def test_missing_files(policy_dir, tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_policy(tmp_path / "nowhere")
    (policy_dir / "policy.zip").unlink()
    with pytest.raises(ModelError, match="policy.zip"):
        load_policy(policy_dir)


def test_corrupt_zip_with_matching_hash_is_a_model_error(policy_dir):
    from atb.rl.artifact import file_sha256

    (policy_dir / "policy.zip").write_bytes(b"PK not a zip")
    _edit(policy_dir / "policy.json", sha256=file_sha256(policy_dir / "policy.zip"))
    with pytest.raises(ModelError, match="cannot load"):
        load_policy(policy_dir)


def test_failed_training_writes_nothing(tmp_path):
    out = tmp_path / "runs" / "policy"
    with pytest.raises(DataError):
        train_policy(synthetic(50), RLConfig(total_timesteps=10), out_dir=out, pair="X/USDT", timeframe="1h")
    with pytest.raises(ConfigError, match="rl.algorithm"):
        train_policy(synthetic(300), {"algorithm": "dqn"}, out_dir=out, pair="X/USDT", timeframe="1h")
    with pytest.raises(ConfigError, match="pair"):
        train_policy(synthetic(300), RLConfig(), out_dir=out, pair="", timeframe="1h")
    assert not out.exists()
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_failure_while_saving_leaves_no_files(tmp_path, monkeypatch):
    from atb.rl import train as train_mod

    def boom(record):
        raise RuntimeError("disk full")

    monkeypatch.setattr(train_mod, "record_to_json", boom)
    out = tmp_path / "policy"
    cfg = RLConfig(window=4, norm_window=8, total_timesteps=64, n_steps=32, batch_size=32, episode_length=32)
    with pytest.raises(RuntimeError, match="disk full"):
        train_policy(synthetic(200), cfg, out_dir=out, pair="X/USDT", timeframe="1h")
    assert list(tmp_path.iterdir()) == []

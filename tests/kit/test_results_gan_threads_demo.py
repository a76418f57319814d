"""The Results page's Lab 2, threads and demo tables come from their benches' JSON (issue 28).

``bench/gan.py``, ``bench/gan_quality.py``, ``bench/threads.py`` and ``bench/demo_load.py`` write
``--json``; ``site/sitegen/table_gan.py``, ``table_threads.py`` and ``table_demo.py`` render it.
Made-up files show that every number in a table is the file's and that each target's verdict
follows the numbers (met, then not met after one number changes). The slow tests run each bench
at its smallest settings into a temporary file and render it: the bench and its renderer agree
on the file's shape. Nothing here writes ``site/data/``.
"""

from __future__ import annotations

import copy
import json

import pytest

from helpers import REPO, run_bench
from helpers import sitegen as _sitegen

SITE = REPO / "site"
BENCH = REPO / "bench"


@pytest.fixture(scope="module")
def table_gan():
    return _sitegen("table_gan")


@pytest.fixture(scope="module")
def table_threads():
    return _sitegen("table_threads")


@pytest.fixture(scope="module")
def table_demo():
    return _sitegen("table_demo")


def _rows(markdown: str) -> list[list[str]]:
    """The body rows of the first pipe table in ``markdown``, as lists of cells."""
    lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def _target(markdown: str) -> str:
    return next(line for line in markdown.splitlines() if "**Target**" in line)


# --- made-up files, shaped as the benches write them ------------------------------------------------
GAN = {
    "torch": "2.0",
    "data_28px": "made-up bags A",
    "data_64px": "made-up bags B",
    "warmup_steps": 3,
    "target_ratio": 1.0,
    "recipes": [
        {
            "key": "c1w2",
            "recipe": "C1W2 DCGAN, 28 px, batch 128",
            "timed_steps": 61,
            "recipe_images_per_second": 1000.0,
            "kit_images_per_second": 1450.0,
        },
        {
            "key": "pytorch_examples",
            "recipe": "pytorch/examples DCGAN, 64 px, batch 128",
            "timed_steps": 13,
            "recipe_images_per_second": 50.0,
            "kit_images_per_second": 57.0,
        },
    ],
    "kit_default_28px": {
        "timed_steps": 61,
        "images_per_second": 930.0,
        "discriminator_hidden": 48,
        "compared_with": "c1w2",
    },
}


def _quality_row(role: str, name: str, fd: float, copy_share: float | None = 0.0) -> dict:
    return {
        "role": role,
        "name": name,
        "fd": fd,
        "kid": fd * 10,
        "coverage": 0.5,
        "copy_share": copy_share,
        "n": 999,
    }


GAN_QUALITY = {
    "data": "made-up bags",
    "config": "classic28",
    "budget_minutes": 10.0,
    "max_epochs": 200,
    "epochs": 101,
    "resumed_after_epoch": 0,
    "epochs_this_run": 101,
    "steps_this_run": 4646,
    "training_minutes": 9.8,
    "rows": [
        _quality_row("floor", "real bags, train split (floor)", 1.11, None),
        _quality_row("ceiling", "real bags blurred, sigma 1 px (ceiling)", 80.0),
        _quality_row("noise", "uniform noise", 190.5),
        _quality_row("generated", "generated, 101 epochs in 9.8 min", 6.25),
    ],
}


def _threads_rows(rates: dict) -> list[dict]:
    return [
        {"competitors": k, "threads": t, "policy": p, "steps_per_second": values}
        for (k, t, p), values in rates.items()
    ]


THREADS = {
    "steps": 41,
    "warmup_steps": 3,
    "repeats": 2,
    "rows": _threads_rows(
        {
            (0, 1, "default"): [5.51, 5.59],
            (0, 1, "PASSIVE"): [5.41, 5.41],
            (0, 2, "default"): [6.73, 6.7],
            (0, 2, "PASSIVE"): [6.8, 6.9],
            (1, 1, "default"): [1.9, 3.8],
            (1, 1, "PASSIVE"): [2.33, 2.47],
            (1, 2, "default"): [0.98, 1.04],
            (1, 2, "PASSIVE"): [3.25, 3.37],
            (2, 1, "default"): [2.99, 2.99],
            (2, 1, "PASSIVE"): [2.0, 2.1],
            (2, 2, "default"): [0.71, 0.72],
            (2, 2, "PASSIVE"): [2.8, 2.81],
        }
    ),
}


def _run(wall: float, competitors: int, gan_seconds: float, epochs: int) -> dict:
    return {
        "returncode": 0,
        "wall_seconds": wall,
        "cpu_seconds": 2 * wall,
        "load_before": 1.0,
        "load_after": 1.5,
        "competitors": competitors,
        "competitor_cpu_seconds": 0.9 * wall if competitors else 0,
        "expected_lines": [],
        "parts": [
            {
                "part": "reenact",
                "threads": 2,
                "passive": True,
                "probe_steps_per_second": 3.0,
                "expected_seconds": 10,
                "seconds": 9.1,
            },
            {
                "part": "detect",
                "threads": 2,
                "passive": True,
                "probe_steps_per_second": 3.0,
                "expected_seconds": 20,
                "seconds": 24.0,
            },
            {
                "part": "gan",
                "threads": 2,
                "passive": True,
                "probe_steps_per_second": 7.7,
                "expected_seconds": 120,
                "seconds": gan_seconds,
                "epochs": epochs,
            },
        ],
    }


DEMO = {
    "budget_seconds": 180.0,
    "quick": False,
    "parts": None,
    "settle_seconds": 60.0,
    "pinned_cpu": None,
    "runs": {"idle": _run(164.0, 0, 115.8, 8), "beside 1 busy loop": _run(176.0, 1, 118.0, 5)},
}


# --- Lab 2: training throughput ----------------------------------------------------------------------
def test_gan_throughput_table_is_the_files_numbers(table_gan):
    text = table_gan.gan_throughput(GAN)
    assert _rows(text) == [
        ["C1W2 DCGAN, 28 px, batch 128", "1000", "1450", "1.45"],
        ["pytorch/examples DCGAN, 64 px, batch 128", "50", "57", "1.14"],
    ]
    assert "made-up bags A" in text and "made-up bags B" in text
    assert "61 for C1W2 DCGAN" in text and "13 for pytorch/examples DCGAN" in text
    # the default config's speed, against the C1W2 recipe's: 930 / 1000
    assert "discriminator hidden 48" in text and "930 images/s, 0.93x the C1W2 DCGAN recipe" in text
    assert "met for both" in _target(text)


def test_gan_throughput_target_fails_with_one_slow_recipe(table_gan):
    slower = copy.deepcopy(GAN)
    slower["recipes"][1]["kit_images_per_second"] = 49.0
    target = _target(table_gan.gan_throughput(slower))
    assert "**not met** for pytorch/examples DCGAN, 64 px, batch 128 (1 of 2 met)" in target
    assert ">= 1.0" in target
    stricter = copy.deepcopy(GAN)
    stricter["target_ratio"] = 1.2  # the target is the file's, not the renderer's
    assert "**not met** for pytorch/examples" in _target(table_gan.gan_throughput(stricter))


# --- Lab 2: quality ----------------------------------------------------------------------------------
def test_gan_quality_table_has_every_row_of_the_file(table_gan):
    text = table_gan.gan_quality(GAN_QUALITY)
    rows = _rows(text)
    assert [row[0] for row in rows] == [row["name"] for row in GAN_QUALITY["rows"]]
    assert rows[0] == ["real bags, train split (floor)", "1.11", "11.10", "50.0 %", "n/a", "999"]
    assert rows[-1] == ["generated, 101 epochs in 9.8 min", "6.25", "62.50", "50.0 %", "0.0 %", "999"]
    assert "101 epochs (4,646 steps in this run) in 9.8 min" in text and "10-minute budget" in text
    assert "made-up bags" in text and "earlier run" not in text
    target = _target(text)
    assert target.endswith("met, FD 6.25 against 80.00 (ratio 0.08).") and "not met" not in target


def test_gan_quality_target_fails_above_the_ceiling_and_a_resumed_run_says_so(table_gan):
    worse = copy.deepcopy(GAN_QUALITY)
    worse["rows"][-1]["fd"] = 95.0
    worse["resumed_after_epoch"], worse["epochs_this_run"] = 40, 61
    text = table_gan.gan_quality(worse)
    assert "**not met**, FD 95.00 against 80.00 (ratio 1.19)" in _target(text)
    assert "already held 40 epochs of an earlier run" in text and "only the 61 trained in this one" in text


# --- threads -----------------------------------------------------------------------------------------
def test_threads_table_is_one_row_per_number_of_busy_loops(table_threads):
    text = table_threads.threads_table(THREADS)
    header = next(line for line in text.splitlines() if line.startswith("| other"))
    assert header == (
        "| other CPU-bound jobs | 1 thread, spinning | 1 thread, `PASSIVE` | 2 threads, spinning | "
        "2 threads, `PASSIVE` |"
    )
    assert _rows(text) == [
        ["0", "5.51-5.59", "5.41", "6.70-6.73", "6.80-6.90"],
        ["1", "1.90-3.80", "2.33-2.47", "0.98-1.04", "3.25-3.37"],
        ["2", "2.99", "2.00-2.10", "0.71-0.72", "2.80-2.81"],
    ]
    assert "41 timed steps after 3" in text and "measured 2 times" in text and "0, 1 or 2 busy loops" in text
    checks = [line for line in text.splitlines() if line.startswith("- **")]
    assert len(checks) == 2
    assert checks[0].endswith("met beside 1 or 2 busy loops.")
    assert checks[1].endswith("met beside 0, 1 or 2 busy loops.")


def test_threads_checks_flip_with_the_numbers(table_threads):
    slow = copy.deepcopy(THREADS)
    for row in slow["rows"]:
        if (row["competitors"], row["threads"], row["policy"]) == (1, 2, "PASSIVE"):
            row["steps_per_second"] = [0.5, 0.6]  # below both 2 spinning threads and 1 sleeping one
    checks = [line for line in table_threads.threads_table(slow).splitlines() if line.startswith("- **")]
    assert checks[0].endswith("**not met** beside 1 busy loop (met beside 2 busy loops).")
    assert checks[1].endswith("**not met** beside 1 busy loop (met beside 0 or 2 busy loops).")
    single = {"steps": 2, "warmup_steps": 3, "repeats": 1, "rows": _threads_rows({(0, 1, "PASSIVE"): [4.5]})}
    text = table_threads.threads_table(single)
    assert _rows(text) == [["0", "4.50"]] and "**" not in text  # nothing to compare: no verdict


# --- the demo ----------------------------------------------------------------------------------------
def test_demo_table_shows_each_run_with_the_epochs_it_chose(table_demo):
    text = table_demo.demo_load(DEMO)
    assert _rows(text) == [
        ["idle", "2 min 44 s", "8", "120 s / 116 s (7.7 steps/s probed)", "9.1 s", "24.0 s"],
        ["beside 1 busy loop", "2 min 56 s", "5", "120 s / 118 s (7.7 steps/s probed)", "9.1 s", "24.0 s"],
    ]
    target = _target(text)
    assert "180 s budget" in target and "met idle (2 min 44 s); met beside 1 busy loop (2 min 56 s)" in target
    assert "not met" not in target
    assert "90 % of a core" in text and "1.07x the idle run's wall time" in text  # 176 / 164
    assert "trained 5 epochs against 8 idle" in text
    assert "within 20 % of what each part took (6 parts; the farthest: detect" in text  # 24 / 20


def test_demo_target_fails_past_the_budget_and_a_quick_run_checks_none(table_demo):
    late = copy.deepcopy(DEMO)
    late["runs"]["beside 1 busy loop"]["wall_seconds"] = 190.4
    late["runs"]["beside 1 busy loop"]["returncode"] = 1
    text = table_demo.demo_load(late)
    assert "**not met** beside 1 busy loop (3 min 10 s, 10 s over)" in _target(text)
    assert "exited with code 1" in _rows(text)[1][0]
    quick = copy.deepcopy(DEMO)
    quick["quick"] = True
    text = table_demo.demo_load(quick)
    assert "`--quick` smoke run" in text and "**Target**" not in text and "time budget." not in text


# --- the page's list of tables -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("snippet", "data", "content"),
    [
        ("table_gan_throughput", "gan.json", GAN),
        ("table_gan_quality", "gan_quality.json", GAN_QUALITY),
        ("table_threads", "threads.json", THREADS),
        ("table_demo_load", "demo_load.json", DEMO),
    ],
)
def test_each_table_is_registered_with_its_command_and_written_from_its_file(
    snippet, data, content, tmp_path, monkeypatch
):
    results, jobs = _sitegen("results"), _sitegen("results_jobs")
    table = next(t for t in jobs.ALL_TABLES if t.snippet == snippet)
    assert table.data == data
    assert table.command.startswith("python bench/") and table.command.endswith(f"--json site/data/{data}")
    written = {}
    monkeypatch.setattr(results, "DATA", tmp_path)
    monkeypatch.setattr(results, "write_snippet", lambda name, text: written.__setitem__(name, text))
    assert results.write_results_table(table) == "missing"
    assert table.command in written[snippet]
    measured = {"command": table.command, "kit_version": "0", "date": "2026-01-02", "machine": "m"}
    (tmp_path / data).write_text(json.dumps({**content, "measured": measured}))
    assert results.write_results_table(table) == "made"
    assert written[snippet].startswith(table.render(content)) and "*Measured 2026-01-02*" in written[snippet]


# --- the benches themselves, at their smallest settings -----------------------------------------------
def _bench(script: str, *args: str, timeout: float = 300) -> None:
    """Run ``bench/SCRIPT`` with this checkout's kit first on the path; fail with its output's end."""
    result = run_bench(script, *args, timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def _written(path) -> dict:
    data = json.loads(path.read_text())
    assert data["measured"]["command"].startswith("python bench/")
    return data


# one setting, one child process: 11 s on the busy 2-core machine, so in the default run
def test_threads_bench_writes_what_its_table_reads(tmp_path, table_threads):
    out = tmp_path / "threads.json"
    _bench(
        "threads.py",
        "--steps",
        "1",
        "--competitors",
        "0",
        "--threads",
        "1",
        "--policies",
        "PASSIVE",
        "--json",
        str(out),
    )
    data = _written(out)
    assert [(r["competitors"], r["threads"], r["policy"]) for r in data["rows"]] == [(0, 1, "PASSIVE")]
    assert len(_rows(table_threads.threads_table(data))) == 1


@pytest.mark.slow  # about 60 s on the busy 2-core machine (the 64 px steps)
def test_gan_bench_writes_what_its_table_reads(tmp_path, table_gan):
    out = tmp_path / "gan.json"
    _bench("gan.py", "--steps", "1", "--steps64", "1", "--threads", "1", "--json", str(out))
    data = _written(out)
    assert data["measured"]["threads"] == 1
    text = table_gan.gan_throughput(data)
    assert len(_rows(text)) == len(data["recipes"]) == 2 and "**Target**" in text


@pytest.mark.slow  # about 40 s on the busy 2-core machine: one epoch, then the table's four rows
def test_gan_quality_bench_writes_every_row_of_its_table(tmp_path, table_gan):
    out = tmp_path / "gan_quality.json"
    _bench(
        "gan_quality.py",
        "--minutes",
        "0.01",
        "--max-epochs",
        "1",
        "--out",
        str(tmp_path / "run"),
        "--json",
        str(out),
    )
    data = _written(out)
    assert [row["role"] for row in data["rows"]] == ["floor", "ceiling", "noise", "generated"]
    assert data["rows"][0]["copy_share"] is None  # NaN in the bench, null in JSON
    assert data["epochs"] == data["epochs_this_run"] == 1 and data["resumed_after_epoch"] == 0
    assert len(_rows(table_gan.gan_quality(data))) == 4


@pytest.mark.slow  # about 20 s: the demo's --quick GAN part, idle only (the full bench takes minutes)
def test_demo_load_bench_writes_what_its_table_reads(tmp_path, table_demo):
    out = tmp_path / "demo_load.json"
    _bench(
        "demo_load.py",
        "--quick",
        "--only",
        "idle",
        "--parts",
        "gan",
        "--out",
        str(tmp_path / "runs"),
        "--json",
        str(out),
    )
    data = _written(out)
    assert list(data["runs"]) == ["idle"] and data["quick"] is True
    gan = data["runs"]["idle"]["parts"][0]
    assert gan["part"] == "gan" and gan["epochs"] == 1
    row = _rows(table_demo.demo_load(data))[0]
    assert row[0] == "idle" and row[2] == "1"

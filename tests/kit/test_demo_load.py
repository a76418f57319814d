"""``bench/demo_load.py`` (issue #17): its plumbing, checked on a stand-in command, never on the demo.

The real measurement takes a quarter of an hour of both cores; here a half-second stand-in shows
that the busy loop runs beside the command (and gets CPU), that the command's expected-time
lines and CPU time are kept, and that the per-part table comes from the demo's summary.json.
"""

from __future__ import annotations

import importlib
import json
import sys

from helpers import REPO

BENCH = REPO / "bench"


def _demo_load():
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("demo_load")


STAND_IN = (
    "import time\nprint('=== Lab 2: a DCGAN that makes bags ===')\n"
    "print('expected: about 1 s on the CPU now (2 torch threads, sleeping while waiting)', flush=True)\n"
    "end = time.process_time() + 0.5\nwhile time.process_time() < end: pass\n"
)


def test_a_run_beside_one_busy_loop_measures_both(tmp_path):
    demo_load = _demo_load()
    result = demo_load.run_once([sys.executable, "-c", STAND_IN], competitors=1, log=tmp_path / "log")
    assert result["returncode"] == 0 and result["competitors"] == 1
    assert result["wall_seconds"] >= 0.4 and result["cpu_seconds"] >= 0.4
    assert result["competitor_cpu_seconds"] > 0.1  # the busy loop really ran beside it
    assert result["expected_lines"] == [
        "expected: about 1 s on the CPU now (2 torch threads, sleeping while waiting)"
    ]
    assert "=== Lab 2" in (tmp_path / "log").read_text()
    idle = demo_load.run_once([sys.executable, "-c", "pass"])
    assert idle["competitors"] == 0 and idle["competitor_cpu_seconds"] == 0


def test_the_command_is_make_demos_and_the_report_lists_each_part(tmp_path):
    demo_load = _demo_load()
    command = demo_load.demo_command(tmp_path / "busy")
    assert command[1:] == ["-m", "deepfakelab", "demo", "--out", str(tmp_path / "busy")]
    assert demo_load.child_env()["PYTHONPATH"].split(":")[0] == str(BENCH.parent / "lib")
    (tmp_path / "summary.json").write_text(
        json.dumps(
            {
                "gan": {
                    "seconds": 301.5,
                    "threads": 2,
                    "passive_waiting": True,
                    "probe_steps_per_second": 7.7,
                    "expected_seconds": 301,
                }
            }
        )
    )
    parts = demo_load.part_rows(tmp_path / "summary.json")
    assert parts == [
        {
            "part": "gan",
            "threads": 2,
            "passive": True,
            "probe_steps_per_second": 7.7,
            "expected_seconds": 301,
            "seconds": 301.5,
        }
    ]
    run = {
        "returncode": 0,
        "wall_seconds": 302.0,
        "cpu_seconds": 590.0,
        "load_before": 1.02,
        "load_after": 2.9,
        "competitors": 1,
        "competitor_cpu_seconds": 150.0,
        "parts": parts,
    }
    table = demo_load.report({"beside 1 busy loop": run})
    assert "| beside 1 busy loop | 5 min 02 s | 590.0 | 1.02 | 2.9 | 150.0 | 0 |" in table
    assert "| beside 1 busy loop | gan | 2 | sleeping | 7.7 | 301 | 301.5 |" in table

"""The Results page's reenactment tables and the frame every generated table shares (issue 28):
``site/sitegen/results.py`` and ``table_reenact.py``.

The renderers get small hand-made files shaped as ``reenact-eval`` and the benches write them:
every number of a table comes from its file, and "met" or "not met" follows the numbers. The
benches run once at their smallest to check that what they write is what the renderers read.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from helpers import REPO
from helpers import sitegen as sitegen_module

SITE = REPO / "site"


@pytest.fixture(scope="module")
def sitegen():
    return sitegen_module("results"), sitegen_module("table_reenact")


MEASURED = {
    "command": "python bench/x.py --json site/data/x.json",
    "kit_version": "0.1.0",
    "date": "2026-12-07",
    "machine": "Some CPU, 2 CPUs, Linux x86_64",
    "python": "3.11.9",
    "threads": 1,
    "load_average_before": 0.2,
    "load_average_after": 1.9,
    "wall_s": 300.0,
}


def _method(l1, akd, mouth=0.1, seam=0.05, aed=None):
    return {"l1": l1, "akd_px": akd, "aed": aed, "mouth_l1": mouth, "seam_l1": seam, "videos": 2}


def _real(mesh_akd_b=0.4):
    per_video = {
        "a.mp4": {"zero-motion": _method(0.07, 8.0), "mesh-warp": _method(0.03, 0.8)},
        "b.mp4": {"zero-motion": _method(0.05, 1.0), "mesh-warp": _method(0.04, mesh_akd_b)},
    }
    return {
        "methods": {
            "zero-motion": _method(0.0687, 8.77, seam=0.0639),
            "landmark-warp": _method(0.0381, 1.91, seam=0.0514),
            "mesh-warp": _method(0.0275, 0.80, mouth=0.1059, seam=0.0363, aed=0.179),
        },
        "videos": per_video,
        "identity_ranges": {"same clip": {"min": 0.002, "max": 0.42, "median": 0.225, "pairs": 10}},
        "frames": 30,
        "measured": MEASURED,
    }


def test_measured_line_says_how_and_where(sitegen):
    results, _ = sitegen
    line = results.measured_line({"measured": MEASURED})
    assert line.startswith("*Measured 2026-12-07* by `python bench/x.py --json site/data/x.json`")
    assert "1 torch thread," in line and "load average 0.2 before and 1.9 after" in line and "5 min" in line
    assert "2 torch threads" in results.measured_line({"measured": {**MEASURED, "threads": 2}})
    assert "not recorded" in results.measured_line({})


def test_missing_file_becomes_a_note_with_its_command(sitegen, tmp_path, monkeypatch):
    results, table_reenact = sitegen
    monkeypatch.setattr(results, "DATA", tmp_path)
    monkeypatch.setattr(results, "GENERATED", tmp_path, raising=False)
    written = {}
    monkeypatch.setattr(results, "write_snippet", lambda name, text: written.setdefault(name, text))
    table = results.ResultsTable(
        "table_x", "x.json", "python bench/x.py --json site/data/x.json", lambda d: ""
    )
    assert results.write_results_table(table) == "missing"
    assert "python bench/x.py --json site/data/x.json" in written["table_x"]
    (tmp_path / "y.json").write_text(json.dumps(_real()))
    made = results.ResultsTable("table_y", "y.json", "cmd", table_reenact.reenact_real)
    assert results.write_results_table(made) == "made"
    assert "| **mesh warp** (the default) | 0.0275 | 0.80 | 0.179 | 0.1059 | 0.0363 |" in written["table_y"]
    assert written["table_y"].rstrip().endswith("5 min).")


def test_real_videos_table_counts_videos_and_names_misses(sitegen):
    _, table_reenact = sitegen
    text = table_reenact.reenact_real(_real())
    assert "| zero motion (output = source) | 0.0687 | 8.77 | - |" in text
    assert f"AKD is {0.80 / 8.77:.2f}x zero motion's" in text
    assert "at most 0.5x on 2 of 2;" in text and "below zero motion's on 2 of 2" in text
    assert f"seam L1 is {0.0363 / 0.0514:.2f}x" in text
    missed = table_reenact.reenact_real(_real(mesh_akd_b=0.9))
    assert "at most 0.5x on 1 of 2 (not on b);" in missed
    assert "same clip 0.002-0.420 (median 0.225, 10 pairs)" in text


def _turns(flipped=0, mesh_seam=0.06):
    per = {"10.0": 0.05, "-10.0": 0.07}
    return {
        "identities": [1, 2],
        "yaws": [10.0, -10.0],
        "size": 256,
        "methods": {
            "zero-motion": {"seam_l1": 0.056, "per_yaw": per, "outside_l1": 0.05},
            "landmark-warp": {"seam_l1": 0.134, "per_yaw": per, "outside_l1": 0.13},
            "mesh-warp": {
                "seam_l1": mesh_seam,
                "per_yaw": per,
                "outside_l1": 0.084,
                "flipped_per_yaw": {"10.0": flipped, "-10.0": 0},
                "uncovered_per_yaw": {"10.0": 0, "-10.0": 3},
                "flipped_max": flipped,
                "flipped_total": flipped,
                "uncovered_max": 3,
            },
        },
    }


def test_head_turns_verdicts_follow_the_numbers(sitegen):
    _, table_reenact = sitegen
    text = table_reenact.mesh_warp_turns(_turns())
    assert "| +10 | 0.0500 | 0.0500 | 0.0500 | 0 | 0 |" in text and "| -10 |" in text
    assert (
        "0 in all (target 0, met)" in text and "0.448x the landmark warp's (target at most 0.5x, met)" in text
    )
    worse = table_reenact.mesh_warp_turns(_turns(flipped=4, mesh_seam=0.1))
    assert (
        "4 in all (target 0, not met)" in worse
        and f"{0.1 / 0.134:.3f}x" in worse
        and "0.5x, not met" in worse
    )


def test_speed_tables(sitegen):
    _, table_reenact = sitegen
    speed = {
        "photo": "p.jpg",
        "video": "v.mp4",
        "frames": 200,
        "size": 256,
        "repeats": 2,
        "target_fps": 25.0,
        "mesh_over_landmark": 3.4,
        "methods": {
            "landmark-warp": {"wall_s": 16.0, "cpu_s": 20.0, "fps": 12.5, "frames_per_cpu_s": 10.0},
            "mesh-warp": {"wall_s": 4.4, "cpu_s": 6.0, "fps": 45.2, "frames_per_cpu_s": 33.3},
        },
    }
    text = table_reenact.reenact_speed(speed)
    assert (
        "| **mesh warp** | 45.2 | 4.4 | 33.3 | met |" in text and "| 12.5 | 16.0 | 10.0 | not met |" in text
    )
    slow = copy.deepcopy(speed)
    slow["methods"]["mesh-warp"]["fps"] = 20.0
    assert "| **mesh warp** | 20.0 |" in table_reenact.reenact_speed(slow)
    assert "not met" in table_reenact.reenact_speed(slow).split("**mesh warp**")[1].splitlines()[0]
    mesh = {
        "video": "d.mp4",
        "frames": 96,
        "frame_size": [480, 480],
        "network_ms": 3.7,
        "track_ms": 4.9,
        "mtcnn_every_frame_ms": 63.6,
        "track_speedup": 13.0,
    }
    text = table_reenact.face_mesh(mesh)
    assert "| 4.90 | 204 |" in text and "13.0x faster" in text


@pytest.mark.parametrize(
    "bench, args",
    [
        ("mesh_warp_turns.py", ["--identities", "1", "--yaws", "10"]),
        ("face_mesh.py", ["--frames", "3"]),
    ],
)
def test_benches_write_what_the_renderers_read(sitegen, bench, args, tmp_path):
    _, table_reenact = sitegen
    out = tmp_path / "scores.json"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / bench), *args, "--json", str(out)], check=True, cwd=REPO
    )
    data = json.loads(out.read_text())
    render = table_reenact.mesh_warp_turns if bench == "mesh_warp_turns.py" else table_reenact.face_mesh
    assert "|" in render(data)
    assert data["measured"]["command"].startswith(f"python bench/{bench}")

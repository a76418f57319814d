"""The Results page's tables of ``bench/detect.py``, ``bench/heads.py`` and ``bench/grade.py`` (issue 28).

Each renderer is checked on a small hand-made file shaped as its bench writes it: the numbers on
the page are the file's, and a target reads "met" or "not met" as the numbers change. Each bench
then runs at its smallest settings with ``--json`` into a temporary folder, and the page's
registered table (``sitegen.results_jobs``) renders what it wrote.
"""

from __future__ import annotations

import copy
import json

import pytest

from helpers import REPO, run_bench
from helpers import sitegen as sitegen_module

SITE = REPO / "site"
BENCH = REPO / "bench"


@pytest.fixture(scope="module")
def sitegen():
    """The site generator's modules (``site/`` is no package of the kit)."""
    names = {
        "results": "results",
        "jobs": "results_jobs",
        "detect": "table_detect_synthetic",
        "heads": "table_heads",
        "grade": "table_grade",
    }
    return {key: sitegen_module(name) for key, name in names.items()}


def _rows(text: str) -> list[list[str]]:
    """The cells of every body row of the Markdown tables in ``text``."""
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| ") and "---" not in line
    ]


def _render_registered(sitegen, data_name: str, path, tmp_path, monkeypatch) -> dict[str, str]:
    """Every registered table of ``data_name``, rendered from ``path`` as the site build does."""
    results = sitegen["results"]
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / data_name).write_text(path.read_text())
    monkeypatch.setattr(results, "DATA", data)
    written = {}
    monkeypatch.setattr(results, "write_snippet", lambda name, text: written.__setitem__(name, text))
    tables = [table for table in sitegen["jobs"].ALL_TABLES if table.data == data_name]
    assert tables, f"no table of the Results page reads {data_name}"
    assert results.write_results_tables(tables) == {table.snippet: "made" for table in tables}
    return written


# --- bench/detect.py -------------------------------------------------------------------------------
def _metrics(frame_auc, video_auc, eer, ap, videos=20) -> dict:
    return {
        "frame_auc": frame_auc,
        "video_auc": video_auc,
        "eer": eer,
        "ap": ap,
        "frames": 8 * videos,
        "videos": videos,
    }


DETECT = {
    "runs": {
        "in_distribution": {
            "run": "runs/detector5-mw4",
            "evaluated": "2026-11-26",
            "arch": "kitnet",
            "epochs": 80,
            "mask_weight": 4.0,
            "hold_out": None,
            "test_identities": 16,
            "test": {
                "all": {**_metrics(0.9401, 0.9962, 0.131, 0.985, 100), "ece": 0.03},
                "face_swap": _metrics(0.925, 0.995, 0.144, 0.935),
                "fomm": _metrics(0.999, 1.0, 0.019, 0.999),
            },
            "test_jpeg50": {
                "all": {**_metrics(0.91, 0.9921, 0.15, 0.97, 100), "ece": 0.04},
                "face_swap": _metrics(0.9, 0.990, 0.16, 0.92),
                "fomm": _metrics(0.99, 1.0, 0.02, 0.99),
            },
            "explain": {
                "gradcam": {
                    "pointing_game": 0.914,
                    "energy_in_mask": 0.72,
                    "flat_maps": 0,
                    "mask_area_share": 0.27,
                    "random_model_pointing_game": 0.25,
                    "rank_corr_with_random_model": 0.05,
                    "fakes": 256,
                },
                "eigencam": {
                    "pointing_game": 0.9,
                    "energy_in_mask": None,
                    "flat_maps": 3,
                    "mask_area_share": 0.27,
                    "random_model_pointing_game": 0.3,
                    "rank_corr_with_random_model": 0.1,
                    "fakes": 256,
                },
            },
        },
        "held_out": {
            "run": "runs/detector5-mw4-holdout",
            "evaluated": "2026-11-27",
            "arch": "kitnet",
            "epochs": 80,
            "mask_weight": 4.0,
            "hold_out": "face_swap",
            "test_identities": 16,
            "test": {
                "all": _metrics(0.9, 0.98, 0.2, 0.9, 100),
                "face_swap": _metrics(0.877, 0.9853, 0.206, 0.891),
            },
            "test_jpeg50": {
                "all": _metrics(0.9, 0.98, 0.2, 0.9, 100),
                "face_swap": _metrics(0.87, 0.988, 0.21, 0.88),
            },
            "explain": {},
        },
    },
    "throughput": {
        "video": "d12.mp4",
        "detector": "deepfakelab real-face detector (MobileNetV2, 128 px)",
        "frames": 48,
        "frame_size": [512, 512],
        "faces": 48,
        "detect_side": 256,
        "batch": 16,
        "threads": 2,
        "baseline_fps": 9.71,
        "kit_fps": 34.52,
    },
    "targets": {
        "video_auc": 0.99,
        "video_auc_jpeg50": 0.95,
        "held_out_video_auc": 0.90,
        "pointing_game": 0.8,
        "frames_per_s": 20.0,
    },
}


def test_detect_table_is_the_files_rows_and_the_held_out_run(sitegen):
    text = sitegen["detect"].detect_synthetic(DETECT)
    rows = _rows(text)
    assert rows[0][0] == "test set (vs reals)"
    assert rows[1] == ["all manipulations", "0.940", "0.996", "0.131", "0.985", "0.992", "100"]
    assert rows[3][:3] == ["FOMM (the kit's small model)", "0.999", "1.000"]
    assert rows[4] == ["face swap, held out of training", "0.877", "0.985", "0.206", "0.891", "0.988", "20"]
    maps = rows[rows.index(next(r for r in rows if r[0] == "map")) + 1 :]
    assert maps == [
        ["Grad-CAM", "0.91", "0.72", "0.27", "0.25", "0.05"],
        ["EigenCAM", "0.90", "-", "0.27", "0.30", "0.10"],
    ]
    assert "16 synthetic identities" in text and "`runs/detector5-mw4-holdout`" in text
    assert "evaluated 2026-11-26" in text and "80 epochs" in text
    targets = text.split("**Against the targets**")[1]
    assert targets.count(": met") == 4 and "not met" not in targets


def test_detect_targets_follow_the_numbers(sitegen):
    data = copy.deepcopy(DETECT)
    data["runs"]["in_distribution"]["test"]["all"]["video_auc"] = 0.981
    data["runs"]["in_distribution"]["explain"]["gradcam"]["pointing_game"] = 0.75
    targets = sitegen["detect"].detect_synthetic(data).split("**Against the targets**")[1]
    assert "0.981 (target at least 0.99: not met)" in targets
    assert "0.75 (target at least 0.80: not met)" in targets
    assert "0.992 (target at least 0.95: met)" in targets
    data["targets"]["held_out_video_auc"] = 0.99  # a target is the file's too
    assert "0.985 (target at least 0.99: not met)" in sitegen["detect"].detect_synthetic(data)


def test_detect_table_without_its_runs(sitegen):
    data = copy.deepcopy(DETECT)
    data["runs"]["held_out"] = {"missing": "runs/detector5-mw4-holdout/evaluation.json"}
    text = sitegen["detect"].detect_synthetic(data)
    assert "held out of training" not in text and "held-out manipulation not measured" in text
    data["runs"]["in_distribution"] = {"missing": "runs/detector5-mw4/evaluation.json"}
    text = sitegen["detect"].detect_synthetic(data)
    assert "`runs/detector5-mw4/evaluation.json`" in text and not _rows(text)


def test_throughput_table_and_its_target(sitegen):
    text = sitegen["detect"].detect_throughput(DETECT)
    assert _rows(text)[1:] == [
        ["naive: MTCNN on the full frame, one frame a pass", "9.7"],
        ["**the kit's**", "34.5"],
    ]
    assert "34.5 frames/s (target at least 20 frames/s: met), 3.56x the naive pipeline" in text
    assert "48 frames of `d12.mp4` (512x512" in text and "to 256 px" in text and "searches 16 frames" in text
    slow = copy.deepcopy(DETECT)
    slow["throughput"]["kit_fps"] = 19.4
    assert "19.4 frames/s (target at least 20 frames/s: not met), 2.00x" in sitegen[
        "detect"
    ].detect_throughput(slow)
    skipped = {**DETECT, "throughput": {"skipped": "no weights"}}
    assert sitegen["detect"].detect_throughput(skipped) == "The throughput was not measured: no weights."


# --- bench/heads.py --------------------------------------------------------------------------------
HEADS = {
    "render": {
        "frames": 300,
        "passes": 3,
        "sizes": {
            "64": {"render_ms": 3.452, "png_decode_ms": 0.081, "target_ms": 5.0},
            "128": {"render_ms": 5.66, "png_decode_ms": 0.26, "target_ms": 10.0},
            "256": {"render_ms": 12.01, "png_decode_ms": 0.84, "target_ms": 20.0},
        },
    },
    "mtcnn": {
        "frames": 100,
        "target_accessory_free": 0.95,
        "accessories": {
            "none": {"128": 0.99, "256": 0.98},
            "clear": {"128": 0.98, "256": 0.99},
            "diving_mask": {"128": 0.62, "256": 0.68},
        },
        "skin_tone": {
            "light skin": {"n": 46, "rates": {"128": 1.0, "256": 1.0}},
            "medium skin": {"n": 0, "rates": {"128": None, "256": None}},
            "deep skin": {"n": 28, "rates": {"128": 0.964, "256": 0.964}},
        },
        "pose_range_deg": {"yaw": 33.9, "pitch": 18.0, "roll": 15.2},
    },
}


def test_heads_tables_are_the_files_numbers(sitegen):
    text = sitegen["heads"].heads(HEADS)
    rows = _rows(text)
    assert rows[:4] == [
        ["accessory", "128 px", "256 px"],
        ["none", "99 %", "98 %"],
        ["clear glasses", "98 %", "99 %"],
        ["diving mask", "62 %", "68 %"],
    ]
    assert rows[4:] == [
        ["", "64 px", "128 px", "256 px"],
        ["render, ms", "3.45", "5.66", "12.01"],
        ["PNG decode of the same frame, ms", "0.08", "0.26", "0.84"],
    ]
    assert "light skin 100 % at 128 px, 100 % at 256 px (n=46)" in text
    assert "deep skin 96 % at 128 px" in text and "medium skin: no identity drawn" in text
    assert "yaw ±33.9, pitch ±18, roll ±15.2" in text and "the same 100 identities" in text
    assert "99 % at 128 px (met), 98 % at 256 px (met)" in text
    assert "3.45 ms at 64 px (target under 5 ms: met)" in text and "median of 3 passes over 300" in text


def test_heads_targets_follow_the_numbers(sitegen):
    data = copy.deepcopy(HEADS)
    data["mtcnn"]["accessories"]["none"]["256"] = 0.94
    data["render"]["sizes"]["256"]["render_ms"] = 20.5
    text = sitegen["heads"].heads(data)
    assert "99 % at 128 px (met), 94 % at 256 px (not met)" in text
    assert "20.50 ms at 256 px (target under 20 ms: not met)" in text


def test_heads_parts_a_run_skipped(sitegen):
    only_timing = {"render": HEADS["render"]}
    assert "not measured in this run (`--skip-mtcnn`)" in sitegen["heads"].heads(only_timing)
    only_mtcnn = {"mtcnn": HEADS["mtcnn"]}
    assert "not measured in this run (`--skip-timing`)" in sitegen["heads"].heads(only_mtcnn)


# --- bench/grade.py --------------------------------------------------------------------------------
GRADE = {
    "submissions": 8,
    "kinds": ["correct", "off_by_one", "blank", "tamper"],
    "jobs": 2,
    "seconds": {"nbgrader": 8.304, "sandbox": 5.257, "no_sandbox": 5.797},
    "per_minute": {"nbgrader": 57.8, "sandbox": 91.31, "no_sandbox": 82.8},
    "phase_mean_s": {"prepare": 0.07, "autograde": 0.72, "hidden_checks": 0.25},
    "target_ratio": 1.0,
}


def test_grade_table_is_the_files_numbers(sitegen):
    text = sitegen["grade"].grade(GRADE)
    assert _rows(text) == [
        ["grading", "wall s, 8 submissions", "submissions/min"],
        ["plain `nbgrader autograde`, one at a time", "8.3", "57.8"],
        ["`deepfakelab course grade --jobs 2`, bubblewrap sandbox", "5.3", "91.3"],
        ["`deepfakelab course grade --jobs 2 --no-sandbox`", "5.8", "82.8"],
    ]
    assert "prepare 0.07 s, autograde 0.72 s, hidden checks 0.25 s" in text
    assert "1.58x, met" in text and "the sandbox costs 0.91x" in text


def test_grade_target_follows_the_numbers(sitegen):
    data = copy.deepcopy(GRADE)
    data["per_minute"]["sandbox"] = 50.0
    assert "0.87x, not met" in sitegen["grade"].grade(data)


# --- registration ----------------------------------------------------------------------------------
def test_each_table_is_registered_with_the_command_that_writes_its_file(sitegen):
    tables = {table.snippet: table for table in sitegen["jobs"].ALL_TABLES}
    expected = {
        "table_detect_synthetic": (
            "detect_synthetic.json",
            "bench/detect.py",
            sitegen["detect"].detect_synthetic,
        ),
        "table_detect_throughput": (
            "detect_synthetic.json",
            "bench/detect.py",
            sitegen["detect"].detect_throughput,
        ),
        "table_heads": ("heads.json", "bench/heads.py", sitegen["heads"].heads),
        "table_grade": ("grade.json", "bench/grade.py", sitegen["grade"].grade),
    }
    for snippet, (data, script, render) in expected.items():
        table = tables[snippet]
        assert table.data == data and table.render is render
        assert table.command.startswith(f"python {script} ") and table.command.endswith(
            f"--json site/data/{data}"
        )


# --- the benches themselves, tiny ------------------------------------------------------------------
def test_heads_bench_refuses_a_json_path_of_another_kind_before_its_work(tmp_path):
    result = run_bench("heads.py", "--json", str(tmp_path / "heads.csv"), timeout=120)
    assert result.returncode == 2 and "--json output" in result.stderr
    assert "render speed" not in result.stdout


def test_heads_bench_writes_what_the_page_renders(sitegen, tmp_path, monkeypatch):
    out = tmp_path / "heads.json"
    result = run_bench(
        "heads.py",
        "--frames",
        "2",
        "--sizes",
        "64",
        "--mtcnn-frames",
        "2",
        "--mtcnn-sizes",
        "128",
        "--json",
        str(out),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text())
    assert set(data["mtcnn"]["accessories"]["none"]) == {"128"} and set(data["render"]["sizes"]) == {"64"}
    assert data["measured"]["command"].startswith("python bench/heads.py --frames 2")
    page = _render_registered(sitegen, "heads.json", out, tmp_path, monkeypatch)["table_heads"]
    assert f"{data['render']['sizes']['64']['render_ms']:.2f}" in page and "*Measured " in page


@pytest.mark.slow
def test_grade_bench_writes_what_the_page_renders(sitegen, tmp_path, monkeypatch):
    out = tmp_path / "grade.json"
    result = run_bench("grade.py", "--submissions", "1", "--json", str(out))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["submissions"] == 1 and data["kinds"] == ["correct"]
    assert set(data["seconds"]) == {"nbgrader", "sandbox", "no_sandbox"}
    page = _render_registered(sitegen, "grade.json", out, tmp_path, monkeypatch)["table_grade"]
    assert f"{data['per_minute']['sandbox']:.1f}" in page and "*Measured " in page


@pytest.mark.slow
def test_detect_bench_writes_what_the_page_renders(sitegen, tmp_path, monkeypatch):
    from deepfakelab.demos.detect import make_demo_videos
    from deepfakelab.detect.evaluation import train_and_evaluate
    from deepfakelab.fakes.synthetic import build_synthetic

    faces = build_synthetic(
        tmp_path / "faces.npz", identities=7, videos_per_identity=1, frames_per_video=2, progress=False
    )
    for run, hold_out in (("all", None), ("holdout", "face_swap")):
        train_and_evaluate(faces, tmp_path / run, epochs=1, threads=2, progress=False, hold_out=hold_out)
    video = make_demo_videos(tmp_path / "videos", frames=4)["real_0"]
    out = tmp_path / "detect_synthetic.json"
    args = ["--run", str(tmp_path / "all"), "--holdout-run", str(tmp_path / "holdout")]
    result = run_bench("detect.py", *args, "--video", str(video), "--frames", "4", "--json", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text())
    assert (
        data["runs"]["held_out"]["hold_out"] == "face_swap" and data["runs"]["in_distribution"]["epochs"] == 1
    )
    assert data["throughput"]["frames"] == 4 and data["measured"]["threads"] == 2
    pages = _render_registered(sitegen, "detect_synthetic.json", out, tmp_path, monkeypatch)
    assert "face swap, held out of training" in pages["table_detect_synthetic"]
    assert f"{data['throughput']['kit_fps']:.1f}" in pages["table_detect_throughput"]


@pytest.mark.slow
def test_detect_bench_scores_the_shipped_weights_without_their_run(sitegen, tmp_path, monkeypatch):
    """Without the training run, the bench scores ``--weights`` now on the face set's test split (the
    same split a run holds out), and the page says so instead of quoting a run's old evaluation."""
    from deepfakelab.demos.detect import make_demo_videos
    from deepfakelab.fakes.synthetic import build_synthetic

    faces = build_synthetic(
        tmp_path / "faces.npz", identities=8, videos_per_identity=1, frames_per_video=2, progress=False
    )
    video = make_demo_videos(tmp_path / "videos", frames=4)["real_0"]
    out = tmp_path / "detect_synthetic.json"
    missing = ["--run", str(tmp_path / "none"), "--holdout-run", str(tmp_path / "none-holdout")]
    args = [*missing, "--data", str(faces), "--video", str(video), "--frames", "4", "--json", str(out)]
    result = run_bench("detect.py", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    shipped = json.loads(out.read_text())["runs"]["in_distribution"]
    assert "kitnet.pt, scored on the test split of" in shipped["run"] and shipped["mask_weight"] is None
    assert 0 <= shipped["test"]["all"]["video_auc"] <= 1 and "gradcam" in shipped["explain"]
    page = _render_registered(sitegen, "detect_synthetic.json", out, tmp_path, monkeypatch)[
        "table_detect_synthetic"
    ]
    assert "The bench scored the weights on the face set's test split when it ran." in page
    assert "the held-out manipulation not measured" in page

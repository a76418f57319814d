"""The Results page's FOMM tables (issue 28): ``bench/reenact.py --json`` and ``reenact-eval --json``
rendered by ``site/sitegen/table_fomm.py``.

The renderers get small hand-made files shaped as the bench and the CLI write them: every number of
the table comes from the file, and "met" or "not met" follows the numbers, so changing them flips
the verdict. The bench itself runs once at its smallest (the small config at 64 px, two frames,
torch only) to check that what it writes is what the renderer reads.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys

import pytest

from helpers import REPO
from helpers import sitegen as sitegen_module

SITE = REPO / "site"


@pytest.fixture(scope="module")
def sitegen():
    """``site/sitegen``'s results modules (the site's generator is no package of the kit)."""
    return sitegen_module("results"), sitegen_module("results_jobs"), sitegen_module("table_fomm")


def _path(cpu: float, wall: float, loop: float = 0.0, float64: float = 1e-5) -> dict:
    """One path as the bench writes it (4 frames, two runs; ratios left for the renderer to recompute)."""
    return {
        "wall_s_per_frame": wall,
        "frames_per_s": 1 / wall,
        "cpu_s_per_frame": cpu,
        "wall_vs_loop": None,
        "cpu_vs_loop": None,
        "wall_s_runs": [4 * wall, 4 * wall + 0.1],
        "cpu_s_runs": [4 * cpu, 4 * cpu + 0.1],
        "first_call_s": 2.5,
        "max_difference_from_loop": loop,
        "max_difference_from_float64_loop": float64,
    }


ENGINES = {
    "config": "vox-256",
    "size": 256,
    "frames": 4,
    "batch_size": 4,
    "threads": 2,
    "repeats": 2,
    "engines_installed": ["torch", "onnxruntime", "openvino"],
    "default_engine": "torch",
    "weights": "random initialisation (seed 0), BatchNorm statistics from the bench's own frames",
    "output_std": 0.0912,
    "exact_frames": 2,
    "target_ratio": 3.0,
    "tolerance": 1e-4,
    "paths": {
        "per-frame": _path(cpu=1.5, wall=2.0, float64=1.2e-5),
        "torch": _path(cpu=1.0, wall=1.0, loop=5e-5, float64=2.7e-5),
        "onnxruntime": _path(cpu=0.75, wall=0.8, loop=6.2e-5, float64=2.7e-5),
        "openvino": _path(cpu=1.2, wall=1.25, loop=1.4e-4, float64=6.5e-5),
    },
    "fastest": "onnxruntime",
    "macs_per_frame": None,
}

SYNTHETIC = {
    "methods": {
        "zero-motion": {"l1": 0.0213, "keypoint_distance_px": 2.62, "videos": 20, "fallbacks": 0},
        "blurred-truth": {"l1": 0.0107, "keypoint_distance_px": None, "videos": 20, "fallbacks": 0},
        "landmark-warp": {"l1": 0.0253, "keypoint_distance_px": 1.15, "videos": 20, "fallbacks": 2},
        "fomm": {"l1": 0.0346, "keypoint_distance_px": 1.16, "videos": 20, "fallbacks": 0},
        "fomm-self": {"l1": 0.0297, "keypoint_distance_px": None, "videos": 20, "fallbacks": 0},
    },
    "videos": 20,
    "size": 64,
    "frames": 32,
}


def _rows(text: str) -> dict[str, list[str]]:
    """The table's body rows by their first cell."""
    lines = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    cells = [[cell.strip() for cell in line.strip().strip("|").split(" | ")] for line in lines]
    return {row[0]: row[1:] for row in cells}


def _line(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


def test_engines_table_rows_and_ratios_come_from_the_file(sitegen):
    text = sitegen[2].fomm_engines(ENGINES)
    rows = _rows(text)
    assert list(rows) == [
        "per-frame loop (the published demo's way)",
        '`engine="torch"` (the default)',
        '`engine="onnxruntime"`',
        '`engine="openvino"`',
    ]
    # frames/s, CPU s/frame, vs loop wall and CPU (recomputed from the seconds), differences
    assert rows['`engine="onnxruntime"`'] == ["1.25", "0.750", "**2.50x**", "2.00x", "6.2e-05", "2.7e-05"]
    assert rows['`engine="torch"`' + " (the default)"][:5] == ["1.00", "1.000", "2.00x", "1.50x", "5.0e-05"]
    assert rows["per-frame loop (the published demo's way)"][2:5] == ["1.00x", "1.00x", "(the reference)"]
    assert "from the float64 loop (2 frames)" in text.splitlines()[2]
    assert "`vox-256` at 256 px: 4 driving frames per timed run, the kit's batch 4, 2 torch threads" in text
    assert "standard deviation here is 0.091" in text
    target = _line(text, "- **Against the target**")
    assert "at least 3x" in target and '`engine="onnxruntime"`' in target
    assert "2.50x the loop's speed in wall time and 2.00x in CPU time: **not met**" in target
    assert "onnxruntime 2.5 s" in _line(text, "- **First call**")
    assert "Multiply-adds" not in text


def test_engines_verdicts_flip_with_the_numbers(sitegen):
    table_fomm = sitegen[2]
    faster = copy.deepcopy(ENGINES)
    faster["paths"]["onnxruntime"] |= {"wall_s_per_frame": 0.5, "frames_per_s": 2.0, "cpu_s_per_frame": 0.45}
    assert "4.00x the loop's speed in wall time and 3.33x in CPU time: **met**" in table_fomm.fomm_engines(
        faster
    )
    faster["paths"]["onnxruntime"]["cpu_s_per_frame"] = 0.75
    assert "**met in wall time, not in CPU time**" in table_fomm.fomm_engines(faster)
    faster["target_ratio"] = 5.0
    assert "(at least 5x the loop's speed)" in table_fomm.fomm_engines(faster)
    assert "**not met**" in table_fomm.fomm_engines(faster)
    # the fastest is whichever path's wall time is lowest, whatever the file's "fastest" says
    faster["paths"]["openvino"] |= {"wall_s_per_frame": 0.4, "frames_per_s": 2.5}
    target = _line(table_fomm.fomm_engines(faster), "- **Against the target**")
    assert '`engine="openvino"`, is 5.00x' in target


def test_engines_agreement_follows_the_float64_rule(sitegen):
    table_fomm = sitegen[2]
    agreement = _line(table_fomm.fomm_engines(ENGINES), "- **Agreement**")
    assert "within 1e-04 of the loop): within: `torch`, `onnxruntime`" in agreement
    assert "`openvino` is 1.4e-04 from the loop, 6.5e-05 from the float64 loop" in agreement
    assert agreement.endswith("against the float32 loop's 1.2e-05: float32 rounding.")
    worse = copy.deepcopy(ENGINES)
    worse["paths"]["openvino"]["max_difference_from_float64_loop"] = 3e-4
    agreement = _line(table_fomm.fomm_engines(worse), "- **Agreement**")
    assert "3.0e-04 from the float64 loop" in agreement and "less exact than float32 rounding" in agreement


def test_engines_table_without_the_float64_column_and_with_multiply_adds(sitegen):
    data = copy.deepcopy(ENGINES)
    for row in data["paths"].values():
        del row["max_difference_from_float64_loop"]
    data["macs_per_frame"] = {"loop": 55.3e9, "kit": 39.5e9, "bottleneck": 20.0e9}
    text = sitegen[2].fomm_engines(data)
    assert "float64 loop (" not in text and len(_rows(text)['`engine="onnxruntime"`']) == 5
    assert "the loop 55.3 G, the kit 39.5 G (1.40x fewer); 20.0 G" in text


def test_synthetic_table_rows_and_targets_come_from_the_file(sitegen):
    table_fomm = sitegen[2]
    shuffled = dict(SYNTHETIC, methods=dict(reversed(list(SYNTHETIC["methods"].items()))))
    text = table_fomm.reenact_synthetic(shuffled)
    rows = _rows(text)
    assert [name.split(" ")[0] for name in rows] == ["zero", "`blurred-truth`:", "landmark", "FOMM,", "the"]
    assert list(rows.values()) == [
        ["0.0213", "2.62"],
        ["0.0107", "-"],
        ["0.0253", "1.15"],
        ["0.0346", "1.16"],
        ["0.0297", "-"],
    ]
    assert text.startswith("20 held-out synthetic heads, 32 frames of 64 px each")
    keypoints = _line(text, "- **Keypoint target**")
    assert (
        "(at most half of zero motion's, 1.31 px): FOMM's is 1.16 px, 0.44x zero motion's: **met**"
        in keypoints
    )
    assert _line(text, "- **L1 target**").startswith("- **L1 target** (0.0107, the `blurred-truth` row's")
    assert "FOMM's is 0.0346: **not met**" in text
    assert "FOMM loses 0.0297, more than not moving at all (0.0213)" in text
    assert "`landmark-warp` fell back to zero motion on 2 of 20 videos" in text
    assert "blurred (a yardstick" in text


def test_synthetic_verdicts_flip_with_the_numbers(sitegen):
    table_fomm = sitegen[2]
    data = copy.deepcopy(SYNTHETIC)
    data["methods"]["fomm"] = {"l1": 0.0100, "keypoint_distance_px": 1.5, "videos": 20, "fallbacks": 0}
    data["methods"]["fomm-self"]["l1"] = 0.0200
    del data["methods"]["landmark-warp"]
    data["blur_sigma"] = 0.7
    text = table_fomm.reenact_synthetic(data)
    assert "FOMM's is 1.50 px, 0.57x zero motion's: **not met**" in text
    assert "FOMM's is 0.0100: **met**" in text
    assert "less than zero motion's 0.0213" in text
    assert "landmark warp" not in text and "Fallbacks" not in text
    assert "the driving frames blurred 0.7 px (a yardstick" in text
    del data["methods"]["fomm-self"]
    assert "fomm-self" not in table_fomm.reenact_synthetic(data)


def test_the_three_tables_are_registered_with_their_commands(sitegen):
    results_jobs = sitegen[1]
    tables = {table.snippet: table for table in results_jobs.ALL_TABLES}
    expected = {
        "table_reenact_synthetic": ("reenact_synthetic.json", "deepfakelab reenact-eval"),
        "table_fomm_engines_vox256": ("fomm_engines_vox256.json", "python bench/reenact.py"),
        "table_fomm_engines_small128": ("fomm_engines_small128.json", "python bench/reenact.py"),
    }
    for snippet, (data, program) in expected.items():
        table = tables[snippet]
        assert table.data == data and table.command.startswith(program)
        assert table.command.endswith(f"--json site/data/{data}")
    assert "--config" not in tables["table_fomm_engines_vox256"].command
    assert "--config fomm-small-64 --size 128" in tables["table_fomm_engines_small128"].command


def test_the_bench_writes_what_the_renderer_reads(sitegen, tmp_path, monkeypatch):
    """The smallest run of ``bench/reenact.py --json``, rendered through the page's own path (the
    snippet with its "measured by" line)."""
    results, _, table_fomm = sitegen
    out = tmp_path / "fomm_engines_tiny.json"
    args = (
        "--config fomm-small-64 --size 64 --frames 2 --batch-size 2 --repeats 1 --threads 1 --engines torch"
    )
    run = subprocess.run(
        [sys.executable, "bench/reenact.py", *args.split(), "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    data = json.loads(out.read_text())
    assert list(data["paths"]) == ["per-frame", "torch"]
    assert (data["config"], data["size"], data["frames"], data["batch_size"], data["repeats"]) == (
        "fomm-small-64",
        64,
        2,
        2,
        1,
    )
    assert data["threads"] == data["measured"]["threads"] == 1
    assert data["measured"]["command"].startswith(f"python bench/reenact.py {args} --json")
    torch_row = data["paths"]["torch"]
    assert torch_row["wall_vs_loop"] == pytest.approx(
        data["paths"]["per-frame"]["wall_s_per_frame"] / torch_row["wall_s_per_frame"]
    )
    written = {}
    monkeypatch.setattr(results, "DATA", tmp_path)
    monkeypatch.setattr(results, "write_snippet", lambda name, text: written.__setitem__(name, text))
    table = results.ResultsTable("table_tiny", out.name, "python bench/reenact.py", table_fomm.fomm_engines)
    assert results.write_results_table(table) == "made"
    text = written["table_tiny"]
    assert f"| {torch_row['frames_per_s']:.2f} | {torch_row['cpu_s_per_frame']:.3f} |" in text
    assert "- **Against the target** (at least 3x" in text
    assert f"*Measured {data['measured']['date']}* by `python bench/reenact.py {args}" in text


def test_the_bench_refuses_a_json_path_without_json_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))  # the bench imports its helpers as ``_kit``
    spec = importlib.util.spec_from_file_location("bench_reenact", REPO / "bench" / "reenact.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    with pytest.raises(SystemExit) as stopped:
        bench.main(["--json", str(tmp_path / "numbers.txt")])
    out, err = capsys.readouterr()
    assert stopped.value.code == 2 and "numbers.txt" in err and "config=" not in out

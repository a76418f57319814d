"""``bench/detect_domain.py``: the weights README's training-domain table, row for row.

The plan is checked against the README's table without running anything; the measuring is
checked on three inputs of the shared real files (a painting, a held-out real video and one
3-frame mesh-warp fake, 2 frames scored each), never on the whole table.
"""

from __future__ import annotations

import importlib
import re
import sys
import tempfile

import pytest

from helpers import REPO

BENCH = REPO / "bench"
WEIGHTS_README = REPO / "lib/deepfakelab/detect/weights/README.md"


def _bench():
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("detect_domain")


def _readme_table() -> list[list[str]]:
    """The lines of the README's table under "Its training-domain check", as cells."""
    section = WEIGHTS_README.read_text().split("### Its training-domain check", 1)[1]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_the_bench_plans_the_readme_tables_files_groups_and_columns():
    bench = _bench()
    table = _readme_table()
    assert table[0] == list(bench.COLUMNS)
    assert bench.markdown([]).splitlines()[0] == "| " + " | ".join(table[0]) + " |"
    readme = {(row[0], row[1]) for row in table[1:]}
    planned = {(name, bench.GROUPS[key][0]) for name, key in bench.planned()}
    assert planned == readme and len(bench.planned()) == len(table) - 1


def test_rows_cells_and_the_summary_line():
    bench = _bench()
    rows = [
        bench.Row("s9.jpg", "painting/statue: flag", "flag", 0.41641, 0.33523, True, 0.8412, 1, 1),
        bench.Row("x.mp4", "held-out real: keep", "keep", 0.1, 0.33523, False, 0.7, 16, 16),
        bench.Row("gone.mp4", "held-out real: keep", "keep", error="gone.mp4: no such file"),
    ]
    assert bench.cells(rows[0]) == ["s9.jpg", "painting/statue: flag", "0.4164", "0.3352", "yes", "0.84"]
    assert bench.cells(rows[2])[2:] == ["-", "-", "-", "-"]
    assert (
        bench.markdown(rows).splitlines()[2]
        == "| s9.jpg | painting/statue: flag | 0.4164 | 0.3352 | yes | 0.84 |"
    )
    line = bench.summary_line(bench.summary(rows))
    assert line.startswith("flag group: 1 of 1 flagged; keep groups: 0 of 2 flagged (wrongly)")
    assert "1 rows without a verdict" in line
    assert (
        bench.fake_name("L", "P") == "fake_l_by_p.mp4"
        and bench.fake_name("photo-s1", "O") == "fake_s1_by_o.mp4"
    )


def test_three_rows_measured_on_the_shared_files_leave_no_fake_behind(real_data, tmp_path, monkeypatch):
    from deepfakelab.detect.inference import DeepfakeDetector

    bench = _bench()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the fake's folder: here, to see it deleted
    detector = DeepfakeDetector()
    threshold = detector.card.domain["threshold"]
    only = {"s9.jpg", "retalk_4.mp4", "fake_s1_by_o.mp4"}
    rows = bench.table_rows(
        detector, real_data, frames=2, pairs=(("photo-s1", "O"),), fake_frames=3, only=only, announce=None
    )
    assert [r.file for r in rows] == ["s9.jpg", "retalk_4.mp4", "fake_s1_by_o.mp4"]
    assert [r.role for r in rows] == ["flag", "keep", "keep"]
    for row in rows:
        assert row.error is None and row.faces >= 1
        assert row.threshold == pytest.approx(threshold)
        assert 0 <= row.distance and 0 <= row.p_fake <= 1
        assert row.flagged == (row.distance > threshold)
    assert rows[1].frames == 2 and rows[0].frames == 1  # a photo is one frame
    assert not list(tmp_path.glob("detect_domain_*"))  # the fake and its photo are gone
    assert re.fullmatch(
        r"flag group: \d of 1 flagged; keep groups: \d of 2 flagged \(wrongly\); "
        r"info groups: 0 of 0 flagged",
        bench.summary_line(bench.summary(rows)),
    )


def test_a_missing_real_folder_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        _bench().main(["--real", str(tmp_path / "nowhere")])
    assert stop.value.code == 2 and "no such folder" in capsys.readouterr().err

"""The small steps of grading, each on its own: strict artifacts, the student's definitions, the
whole-notebook time budget, and the instructor's release command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from deepfakelab.course.artifacts import (
    ArtifactError,
    load_array,
    load_csv,
    load_json,
    number,
    save_array,
    save_csv,
    save_json,
)
from deepfakelab.course.sandbox.student_code import definitions, load_student_namespace


# --- artifacts -------------------------------------------------------------------------------


def test_artifacts_round_trip(tmp_path):
    save_json({"indices": [0, 5]}, "frames.json", tmp_path)
    save_csv([{"step": 0, "d_loss": 0.7}, {"step": 1, "d_loss": 0.6}], "history.csv", tmp_path)
    save_array(np.zeros((2, 1, 4, 4), np.float32), "samples.npy", tmp_path)
    assert load_json(tmp_path / "frames.json", dict) == {"indices": [0, 5]}
    assert load_csv(tmp_path / "history.csv", ["step", "d_loss"], numeric=["d_loss"])[1]["d_loss"] == 0.6
    assert load_array(tmp_path / "samples.npy", ndim=4).shape == (2, 1, 4, 4)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("scores.json", "{'not': json}", "not valid JSON"),
        ("scores.json", '{"score": NaN}', "not valid JSON"),
        ("scores.json", "[1, 2]", "expected dict"),
        ("history.csv", "step,g_loss\n0,1\n", "missing column(s) ['d_loss']"),
        ("history.csv", "step,d_loss\n0,abc\n", "line 2, column 'd_loss' is 'abc'"),
        ("history.csv", "step,d_loss\n0,inf\n", "not finite"),
        ("history.csv", "step,d_loss\n", "no rows"),
    ],
)
def test_malformed_or_forged_artifacts_are_refused_with_the_file_name(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(ArtifactError) as err:
        if name.endswith(".json"):
            load_json(tmp_path / name, dict)
        else:
            load_csv(tmp_path / name, ["step", "d_loss"], numeric=["d_loss"])
    assert name in str(err.value) and message in str(err.value)


def test_arrays_are_never_unpickled(tmp_path):
    np.save(tmp_path / "samples.npy", np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ArtifactError, match="samples.npy"):
        load_array(tmp_path / "samples.npy")
    np.save(tmp_path / "nan.npy", np.array([1.0, math.nan]))
    with pytest.raises(ArtifactError, match="NaN"):
        load_array(tmp_path / "nan.npy")
    with pytest.raises(ArtifactError, match="not found"):
        load_array(tmp_path / "missing.npy")


def test_numbers_are_checked_strictly():
    assert number(0.5, "score", 0, 1) == 0.5
    for bad in (True, "0.5", math.nan, 2.0):
        with pytest.raises(ArtifactError, match="score"):
            number(bad, "score", 0, 1)


# --- the student's definitions -----------------------------------------------------------------


def _notebook(tmp_path: Path, cells: list[tuple[str, dict]]) -> Path:
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "source": src,
                "metadata": {"nbgrader": meta},
                "outputs": [],
                "execution_count": None,
            }
            for src, meta in cells
        ],
    }
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_only_definitions_are_taken_from_answers():
    kept = definitions(
        "import numpy as np\nnp.allclose = lambda *a, **k: True\nX = 3\nY = f()\n"
        "def f():\n    return 1\nwhile True:\n    pass\n%timeit f()"
    )
    assert [type(n).__name__ for n in kept] == ["Import", "Assign", "FunctionDef"]


def test_definitions_that_would_run_code_while_loading_are_left_out():
    source = "\n".join(
        [
            "@patch_everything",
            "def a():",
            "    pass",
            "def b(x=install_backdoor()):",
            "    pass",
            "class C:",
            "    import numpy; numpy.allclose = None",
            "class D(nn.Module):",
            "    'doc'",
            "    size = 3",
            "    def forward(self, x: run_me()) -> run_me():",
            "        return x",
            "def e(x, k=Z_DIM, n=3):",
            "    return x",
        ]
    )
    kept = definitions(source)
    assert [n.name for n in kept] == ["D", "e"]
    assert kept[0].body[2].args.args[1].annotation is None  # annotations are never evaluated


def test_student_namespace_ignores_monkeypatching_and_side_effects(tmp_path):
    path = _notebook(
        tmp_path,
        [
            ("import numpy as np\nZ_DIM = 4", {"locked": True, "grade_id": "setup"}),
            (
                "def f(x):\n    return x + Z_DIM\nnp.allclose = lambda *a, **k: True\nopen('pwned', 'w')",
                {"solution": True, "grade_id": "answer"},
            ),
            (
                "assert f(1) == 5\ndef helper():\n    pass",
                {"grade": True, "locked": True, "grade_id": "check"},
            ),
            ("this is not python", {"solution": True, "grade_id": "broken"}),
        ],
    )
    student, problems = load_student_namespace(path)
    assert student.f(1) == 5 and student.Z_DIM == 4
    assert not hasattr(student, "helper")  # test cells contribute nothing
    assert not np.allclose([1], [2])  # the patch never ran
    assert not Path("pwned").exists() and problems == []


# --- the notebook's time budget --------------------------------------------------------------


def test_notebook_budget_stops_a_loop_and_skips_the_rest(tmp_path):
    pytest.importorskip("nbgrader")
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from deepfakelab.course.grading.limits import TIME_LIMIT_ERROR, LimitedExecute

    nb = new_notebook(
        cells=[new_code_cell("x = 1"), new_code_cell("while True:\n    pass"), new_code_cell("y = 2")]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    executor = LimitedExecute(timeout=60, notebook_timeout=6, kernel_name="python3")
    executor.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    first, loop, last = nb.cells
    assert not any(o.output_type == "error" for o in first.outputs)
    assert loop.outputs[-1].ename == TIME_LIMIT_ERROR  # stopped by what was left of 6 s, not by 60 s
    assert last.outputs[0].ename == TIME_LIMIT_ERROR and "not run" in last.outputs[0].evalue
    nbformat.validate(nb)


# --- release -----------------------------------------------------------------------------------


def test_release_command_makes_a_course_folder(tmp_path):
    pytest.importorskip("nbgrader")
    from deepfakelab.cli import main

    assert main(["course", "release", "lab2", "--course", str(tmp_path)]) == 0
    assert (tmp_path / "nbgrader_config.py").is_file() and (tmp_path / "hidden_checks" / "lab2").is_dir()
    released = (tmp_path / "release" / "lab2" / "lab2.ipynb").read_text()
    assert "YOUR CODE HERE" in released and "BEGIN SOLUTION" not in released
    (tmp_path / "nbgrader_config.py").write_text(
        (tmp_path / "nbgrader_config.py").read_text() + "\n# my edit\n"
    )
    assert main(["course", "release", "lab2", "--course", str(tmp_path)]) == 0
    assert "# my edit" in (tmp_path / "nbgrader_config.py").read_text()  # the instructor's edits are kept


def test_grading_an_unknown_assignment_names_the_known_ones(tmp_path, capsys):
    pytest.importorskip("nbgrader")
    from deepfakelab.cli import main
    from deepfakelab.course.layout import init_course

    init_course(tmp_path, ["lab2"])
    assert main(["course", "grade", "lab9", "--course", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "lab9" in err and "lab2" in err and "Traceback" not in err


def test_output_without_end_is_dropped_as_it_arrives(tmp_path):
    """A cell printing 60 MB keeps only what the limits allow, in the grader's memory and in the notebook."""
    pytest.importorskip("nbgrader")
    from nbformat.v4 import new_code_cell, new_notebook

    from deepfakelab.course.grading.limits import LimitedExecute, LimitedOutput

    nb = new_notebook(
        cells=[new_code_cell("for _ in range(60):\n    print('x' * 1_000_000)"), new_code_cell("y = 2")]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    LimitedExecute(
        timeout=120, notebook_timeout=120, kernel_name="python3", max_output_bytes=5_000_000
    ).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert 4_000_000 < len(text) < 6_100_000 and "Output truncated: more than 5,000,000 bytes" in text
    LimitedOutput(max_bytes=100_000, max_lines=1000).preprocess(nb, {})
    assert sum(len(o.get("text", "")) for o in nb.cells[0].outputs) < 101_000


# --- hidden checks fail closed --------------------------------------------------------------------


def test_a_hidden_check_that_does_not_report_fails_its_cell(tmp_path):
    pytest.importorskip("nbgrader")
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from deepfakelab.course.grading.worker import expected_checks, score_notebook

    (tmp_path / "test_lab.py").write_text(
        "import pytest\n\n@pytest.mark.grade('check_a')\ndef test_one(student):\n    pass\n\n"
        "@pytest.mark.grade('check_a')\ndef test_two(student):\n    pass\n\n"
        "@pytest.mark.grade('check_b')\ndef test_three(student):\n    pass\n\ndef helper():\n    pass\n"
    )
    (tmp_path / "conftest.py").write_text("@pytest.mark.grade('check_b')\ndef test_ignored():\n    pass\n")
    expected = expected_checks(tmp_path)
    assert expected == {
        "check_a": {"test_lab.py::test_one", "test_lab.py::test_two"},
        "check_b": {"test_lab.py::test_three"},
    }
    meta = lambda gid: {
        "nbgrader": {"grade": True, "grade_id": gid, "locked": True, "solution": False, "points": 1}
    }
    nb = new_notebook(
        cells=[
            new_code_cell("pass", metadata=meta("check_a")),
            new_code_cell("pass", metadata=meta("check_b")),
        ]
    )
    cells = [
        {"grade_id": "check_a", "max_points": 1.0, "manual": False},
        {"grade_id": "check_b", "max_points": 1.0, "manual": False},
    ]
    passed = lambda fn, gid: {
        "test": fn,
        "function": fn,
        "file": "test_lab.py",
        "grade_id": gid,
        "outcome": "passed",
        "message": "",
    }
    # test_two never reported (stopped, deselected, or its result removed): check_a fails; check_b passed
    rows = score_notebook(
        nb, cells, [passed("test_one", "check_a"), passed("test_three", "check_b")], None, expected
    )
    assert [(r["points"], r["message"]) for r in rows] == [
        (0.0, "the hidden check test_two did not report a result"),
        (1.0, ""),
    ]
    # an empty results list ("all passed" to the old grader) fails everything that has checks
    rows = score_notebook(nbformat.from_dict(nb), cells, [], None, expected)
    assert [r["points"] for r in rows] == [0.0, 0.0]

"""The sandbox and the data channel on their own: what a process in it can see and do, what crosses.

Each test starts a real bubblewrap sandbox (a fraction of a second) and asserts from inside
and outside; test_course_adversarial.py runs the same attacks through a whole grading run.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from deepfakelab.course.sandbox import wire
from deepfakelab.course.sandbox.bubblewrap import Limits, ProcessGroup, Sandbox, availability
from deepfakelab.course.layout import kit_root

needs_bwrap = pytest.mark.skipif(availability() is not None, reason=f"no sandbox here: {availability()}")


def _run_inside(tmp_path: Path, code: str, limits: Limits = Limits(memory_mb=2048), timeout: float = 60):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    with ProcessGroup(limits.processes) as group:
        cmd = Sandbox(writable=(work,), limits=limits).command(
            [sys.executable, "-c", textwrap.dedent(code)], cwd=work, cgroup=group.path
        )
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return proc, work


@needs_bwrap
def test_inside_only_the_system_python_the_kit_and_its_own_folder(tmp_path):
    secret = tmp_path / "course" / "source"
    secret.mkdir(parents=True)
    (secret / "lab.ipynb").write_text("BEGIN SOLUTION")
    proc, work = _run_inside(
        tmp_path,
        f"""
        import json, os, pathlib, socket
        import deepfakelab
        kit = pathlib.Path(deepfakelab.__file__).resolve().parents[2]
        seen = {{
            "course": os.path.exists({str(secret)!r}),
            "solutions": os.path.exists(kit / "solutions") and bool(os.listdir(kit / "solutions")),
            "autograder": os.path.exists(kit / "autograder") and bool(os.listdir(kit / "autograder")),
            "grader_pid": os.path.exists("/proc/{os.getpid()}"),
            "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
            "etc": sorted(os.listdir("/etc")),
            "shadow": os.path.exists("/etc/shadow"),
        }}
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=3)
            seen["network"] = True
        except OSError:
            seen["network"] = False
        try:
            open(kit / "lib" / "deepfakelab" / "pwned.py", "w")
            seen["kit_writable"] = True
        except OSError:
            seen["kit_writable"] = False
        open("mine.txt", "w").write("ok")
        print(json.dumps(seen))
    """,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert not seen["course"] and not seen["solutions"] and not seen["autograder"] and not seen["shadow"]
    assert not seen["grader_pid"] and max(seen["processes"]) < 10  # its own PID namespace
    assert not seen["network"] and not seen["kit_writable"]
    assert set(seen["etc"]) <= {
        "ld.so.cache",
        "ld.so.conf",
        "ld.so.conf.d",
        "alternatives",
        "fonts",
        "localtime",
        "mime.types",
        "matplotlibrc",
        "ssl",
    }
    assert (work / "mine.txt").read_text() == "ok"
    assert not (kit_root() / "lib" / "deepfakelab" / "pwned.py").exists()


@needs_bwrap
def test_limits_hold_inside(tmp_path):
    proc, _ = _run_inside(
        tmp_path,
        """
        import subprocess
        started = []
        try:
            for _ in range(100):
                started.append(subprocess.Popen(["sleep", "5"]))
        except OSError:
            pass
        print(len(started))
        try:
            hog = bytearray(3 * 2**30)
            print("allocated")
        except MemoryError:
            print("MemoryError")
        try:
            open("big", "wb").write(b"x" * (3 * 2**20))
            print("wrote")
        except OSError as exc:
            print("fsize", exc.errno)
    """,
        limits=Limits(memory_mb=1024, processes=16, file_mb=1),
    )
    lines = proc.stdout.split()
    assert lines and int(lines[0]) < 16, proc.stdout + proc.stderr  # the pids cgroup (or RLIMIT_NPROC)
    assert "MemoryError" in lines
    assert "wrote" not in lines  # RLIMIT_FSIZE: SIGXFSZ or EFBIG


@needs_bwrap
def test_pid_1_shows_neither_the_graders_environment_nor_its_mounts(tmp_path, monkeypatch):
    """bwrap's reaper is the sandbox's PID 1: it must not carry the grader's environment or mount list."""
    monkeypatch.setenv("INSTRUCTOR_TOKEN", "token-of-the-instructor-5521")
    proc, _ = _run_inside(
        tmp_path,
        """
        import json, os
        print(json.dumps({"environ": open("/proc/1/environ", "rb").read().decode(errors="replace"),
                          "cmdline": open("/proc/1/cmdline", "rb").read().decode(errors="replace"),
                          "mine": dict(os.environ)}))
    """,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["environ"] == ""
    assert seen["cmdline"].split("\0")[:4] == ["bwrap", "--args", "3", "--"]
    for host_detail in ("--ro-bind", "--bind", "--setenv", str(tmp_path), "/etc/ld.so.cache"):
        assert host_detail not in seen["cmdline"]
    assert "INSTRUCTOR_TOKEN" not in seen["mine"] and "token-of-the-instructor" not in proc.stdout


@needs_bwrap
def test_memory_filesystems_are_sized_and_dev_is_read_only(tmp_path):
    """/tmp and /dev/shm hold at most their sizes (bwrap's default is half the host's RAM); /dev takes no files."""
    limits = Limits(memory_mb=1024, tmp_mb=8, shm_mb=4)
    proc, _ = _run_inside(
        tmp_path,
        """
        import errno, json
        written = {}
        for folder in ("/tmp", "/dev/shm", "/dev"):
            written[folder] = [0, None]
            try:
                with open(folder + "/fill", "wb") as f:
                    for _ in range(64):
                        f.write(b"x" * 2**20)
                        f.flush()
                        written[folder][0] += 1
            except OSError as exc:
                written[folder][1] = errno.errorcode[exc.errno]
        print(json.dumps(written))
    """,
        limits=limits,
    )
    written = json.loads(proc.stdout)
    assert written["/tmp"] == [8, "ENOSPC"] and written["/dev/shm"] == [4, "ENOSPC"], written
    assert written["/dev"] == [0, "EROFS"]
    assert limits.total_mb() == 1024 + 8 + 4


def test_the_memory_cgroup_caps_the_whole_sandbox_where_it_can_be_made():
    """Where a memory cgroup can be made, its limit is the address space plus both tmpfs sizes."""
    limits = Limits(memory_mb=512, tmp_mb=16, shm_mb=8)
    with ProcessGroup(limits.processes, limits.total_mb()) as group:
        settings = [
            p / name
            for p in group.paths
            for name in ("memory.max", "memory.limit_in_bytes")
            if (p / name).is_file()
        ]
        if not settings:
            pytest.skip("no memory cgroup can be made here (the sized tmpfs mounts still hold)")
        assert int(settings[0].read_text()) == (512 + 16 + 8) * 2**20


@needs_bwrap
def test_a_daemon_dies_with_the_sandbox(tmp_path):
    import psutil

    work = tmp_path / "work"
    work.mkdir()
    marker = f"dfl-daemon-{os.getpid()}"
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)  # {marker}'], start_new_session=True)\n"
        "print('started', flush=True)\ntime.sleep(60)"
    )
    proc = subprocess.Popen(
        Sandbox(writable=(work,)).command([sys.executable, "-c", code], cwd=work),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "started"
    assert any(marker in " ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"]))
    proc.kill()  # what jupyter_client does to a kernel at the end
    proc.wait()
    time.sleep(1)
    assert not any(marker in " ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"]))


def test_grade_refuses_without_bubblewrap_unless_told(tmp_path, capsys, monkeypatch):
    pytest.importorskip("nbgrader")
    from deepfakelab.cli import main
    from deepfakelab.course import toy
    from deepfakelab.course.sandbox import bubblewrap

    toy.build_toy_course(tmp_path)
    monkeypatch.setattr(bubblewrap, "availability", lambda: "bubblewrap (bwrap) is not installed; install it")
    assert main(["course", "grade", toy.ASSIGNMENT, "--course", str(tmp_path), "--no-feedback"]) == 2
    err = capsys.readouterr().err
    assert "not grading: bubblewrap (bwrap) is not installed" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert (
        main(["course", "grade", toy.ASSIGNMENT, "--course", str(tmp_path), "--no-feedback", "--no-sandbox"])
        == 0
    )
    assert "NOT SANDBOXED" in capsys.readouterr().out


def test_availability_names_the_missing_tool(monkeypatch):
    from deepfakelab.course.sandbox import bubblewrap

    monkeypatch.setenv("PATH", "/nonexistent")
    why = bubblewrap.availability.__wrapped__()
    assert why.startswith("bubblewrap (bwrap) is not installed") and "--no-sandbox" in why


# --- what crosses between the checks and the sandbox ---------------------------------------------


def test_data_round_trips_and_objects_are_refused():
    import torch

    message = {
        "value": [
            1,
            2.5,
            None,
            True,
            "s",
            (3, 4),
            {"k": np.arange(6).reshape(2, 3)},
            torch.ones(2),
            float("nan"),
            np.float32(1.5),
        ]
    }
    back = wire.loads(wire.dumps(message))["value"]
    assert back[:5] == [1, 2.5, None, True, "s"] and back[5] == (3, 4)
    assert np.array_equal(back[6]["k"], np.arange(6).reshape(2, 3))
    assert isinstance(back[7], torch.Tensor) and back[7].tolist() == [1.0, 1.0]
    assert np.isnan(back[8]) and back[9] == 1.5
    for bad in (lambda: 1, torch.nn.Linear(2, 2), np.array([object()]), {1: 2}, {"__array__": 0}):
        with pytest.raises(wire.WireError):
            wire.dumps({"value": bad})


def test_a_forged_frame_is_refused_without_unpickling():
    buffer = io.BytesIO()
    header = np.frombuffer(json.dumps({"value": {"__array__": 0}}).encode(), dtype=np.uint8)
    np.savez(buffer, header=header, a0=np.array([{"os.system": "touch pwned"}], dtype=object))
    with pytest.raises(wire.WireError):
        wire.loads(buffer.getvalue())
    with pytest.raises(wire.WireError):
        wire.loads(b"PK\x03\x04 not a zip")
    stream = io.BytesIO(wire._LENGTH.pack(wire.MAX_FRAME + 1))
    with pytest.raises(wire.WireError, match="larger"):
        wire.receive(stream)


@pytest.mark.parametrize("sandbox", [pytest.param(True, marks=needs_bwrap), False])
def test_remote_student_calls_errors_timeouts_and_exits(tmp_path, sandbox):
    import nbformat

    from deepfakelab.course.sandbox.remote_student import RemoteStudent, StudentError

    source = (
        "import os, time\nimport numpy as np\n"
        "def double(x):\n    return np.asarray(x) * 2\n"
        "def nth(items, i):\n    return items[i]\n"
        "def forever():\n    while True:\n        time.sleep(0.1)\n"
        "def leave():\n    os._exit(3)\n"
        "def module():\n    import torch\n    return torch.nn.Linear(1, 1)\n"
        "def chatty():\n    print('noise on stdout'); os.write(1, b'raw noise'); return 7\n"
    )
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                source,
                metadata={
                    "nbgrader": {"solution": True, "grade_id": "answer", "grade": False, "locked": False}
                },
            )
        ]
    )
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    with RemoteStudent(path, sandbox=sandbox, memory_mb=4096, call_timeout=5) as student:
        assert {"double", "nth", "forever", "leave"} <= set(student.callables)
        assert np.array_equal(student.double([1, 2]), [2, 4])
        with pytest.raises(IndexError):
            student.nth([1], 5)
        with pytest.raises(StudentError, match="within 5 s"):
            student.forever()
        with pytest.raises(StudentError, match="exit status 3"):
            student.leave()
        with pytest.raises(StudentError, match="Linear cannot be checked"):
            student.module()
        assert student.chatty() == 7  # its prints do not corrupt the answers
        assert student.function("undefined") is None


@needs_bwrap
def test_the_graded_kernel_knows_it_is_graded(tmp_path):
    """Notebooks shorten their training under nbgrader (NBGRADER_EXECUTION), through the sandbox's empty env."""
    pytest.importorskip("nbgrader")
    import nbformat

    from deepfakelab.course import toy
    from deepfakelab.course.grading.grade import GradeOptions, grade_assignment
    from deepfakelab.course.release import generate_assignment

    course = toy.build_toy_course(tmp_path)
    generate_assignment(course, toy.ASSIGNMENT)
    path = toy.make_submission(course, "env", "correct")
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "verdict_answer":
            cell.source += "\nimport os\nassert os.environ.get('NBGRADER_EXECUTION') == 'autograde'"
    nbformat.write(nb, str(path))
    report = grade_assignment(course, toy.ASSIGNMENT, GradeOptions(jobs=1, progress=False, feedback=False))
    assert report.graded["env"].score == 5.0, report.graded["env"].notebooks


@needs_bwrap
def test_a_hidden_folder_inside_a_mounted_one_is_masked(tmp_path):
    """The course folder stays out even when it lies inside something mounted (here: a readable folder)."""
    course = tmp_path / "shared" / "course"
    (course / "source").mkdir(parents=True)
    (course / "source" / "lab.ipynb").write_text("BEGIN SOLUTION")
    work = tmp_path / "shared" / "course" / "private"  # a writable folder inside the hidden one still works
    work.mkdir()
    cmd = Sandbox(writable=(work,), readable=(tmp_path / "shared",), hidden=(course,)).command(
        [
            sys.executable,
            "-c",
            f"import os; print(os.path.exists({str(course / 'source')!r})); open('x', 'w')",
        ],
        cwd=work,
    )
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "False", proc.stderr
    assert (work / "x").exists()

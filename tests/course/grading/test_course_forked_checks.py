"""The hidden checks' pytest in a forked child (deepfakelab.course.grading.forked_checks)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from deepfakelab.course.grading.forked_checks import run_pytest, single_threaded

needs_one_thread = pytest.mark.skipif(not single_threaded(), reason="this test process has threads")


def _checks(tmp_path, body: str):
    folder = tmp_path / "checks"
    folder.mkdir()
    (folder / "test_it.py").write_text(body)
    work = tmp_path / "work"
    work.mkdir()
    return [
        str(folder),
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(folder),
        "-c",
        os.devnull,
        "--noconftest",
        "--confcutdir",
        str(folder),
    ], work


@needs_one_thread
def test_exit_status_log_cwd_and_environment(tmp_path):
    args, work = _checks(
        tmp_path,
        "import os\n"
        "def test_here():\n    assert os.getcwd() == os.environ['WANT_CWD']\n"
        "def test_fails():\n    assert False, 'told'\n",
    )
    log = tmp_path / "log"
    code = run_pytest(args, work, {"WANT_CWD": str(work)}, 0, 60, log)
    assert code == 1  # one failed
    text = log.read_text()
    assert "1 failed, 1 passed" in text and "told" in text
    assert "WANT_CWD" not in os.environ  # the parent's environment is untouched


@needs_one_thread
def test_the_worker_descriptors_are_released_in_the_child(tmp_path):
    """The worker's pipe is not held by the child: its number points at /dev/null there."""
    read, write = os.pipe()
    try:
        args, work = _checks(
            tmp_path,
            "import os\n"
            "def test_released():\n"
            "    assert os.readlink(f\"/proc/self/fd/{os.environ['THE_FD']}\") == '/dev/null'\n",
        )
        assert run_pytest(args, work, {"THE_FD": str(write)}, 0, 60, tmp_path / "log") == 0, (
            tmp_path / "log"
        ).read_text()
    finally:
        os.close(read)
        os.close(write)


@needs_one_thread
def test_an_inherited_object_closing_its_old_descriptor_breaks_nothing(tmp_path):
    """The Bad-file-descriptor race (issue 32): a worker object finalised in the child closes its old fd number.

    Had the child freed the numbers (closerange), its new pipes -- to the sandboxed student server,
    to the media decoder -- would reuse them, and that close would cut one of them mid-check.
    """
    inherited = open(os.devnull)  # stands for a worker's pipe, socket or selector
    try:
        args, work = _checks(
            tmp_path,
            "import os\n"
            "def test_new_pipe_survives():\n"
            "    old = int(os.environ['THE_FD'])\n"
            "    r, w = os.pipe()\n"
            "    assert old not in (r, w)\n"
            "    os.close(old)  # what the inherited object's finaliser does\n"
            "    os.write(w, b'x')\n"
            "    assert os.read(r, 1) == b'x'\n",
        )
        assert run_pytest(args, work, {"THE_FD": str(inherited.fileno())}, 0, 60, tmp_path / "log") == 0, (
            tmp_path / "log"
        ).read_text()
    finally:
        inherited.close()


@needs_one_thread
def test_a_check_past_the_timeout_is_killed(tmp_path):
    args, work = _checks(
        tmp_path,
        "import os, time\n"
        "def test_slow():\n"
        "    open(os.environ['PID_FILE'], 'w').write(str(os.getpid()))\n"
        "    time.sleep(60)\n",
    )
    pid_file = tmp_path / "pid"
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        run_pytest(args, work, {"PID_FILE": str(pid_file)}, 0, 3, tmp_path / "log")
    assert time.monotonic() - start < 20
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


@needs_one_thread
def test_memory_limit_applies_in_the_child(tmp_path):
    args, work = _checks(
        tmp_path,
        "import resource\n"
        "def test_limit():\n"
        "    assert resource.getrlimit(resource.RLIMIT_AS)[0] == 4096 * 2**20\n",
    )
    assert run_pytest(args, work, {}, 4096, 60, tmp_path / "log") == 0, (tmp_path / "log").read_text()


def test_a_threaded_process_is_not_forked(tmp_path):
    args, work = _checks(tmp_path, "def test_ok():\n    pass\n")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert run_pytest(args, work, {}, 0, 60, tmp_path / "log") is None
    finally:
        stop.set()
        thread.join()


def test_the_tests_above_run_in_a_single_threaded_interpreter_when_this_one_has_threads():
    """In the full suite this process has threads (torch's, a server's), so the tests above skip
    here: run them in a fresh interpreter, where they must all pass rather than skip."""
    import subprocess
    import sys

    if single_threaded():
        pytest.skip("this process is single-threaded: the tests above ran in it")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            __file__,
            "-k",
            "not single_threaded_interpreter",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "skipped" not in done.stdout and " passed" in done.stdout, done.stdout[-2000:]

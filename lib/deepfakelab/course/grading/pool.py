"""Worker processes: each submission graded in a process of its own, several at a time.

Workers are forked from a fork server that has imported the libraries once
(:data:`.worker.PRELOAD`), so a worker starts in milliseconds; :func:`warm_up_workers` starts
that server while the run sets itself up. :func:`run_worker` grades one :class:`~.jobs.GradingJob`
in one worker and kills it (and its kernel) past its wall time; :func:`run_pool` runs a list of
jobs, a few at a time, and hands each :class:`~.jobs.GradingResult` to the run as it arrives.
Ctrl-C and SIGTERM stop the pool: the running workers are killed, what had finished is still
handed over. :mod:`.feedback` starts its processes from the same server.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Callable

import psutil
from tqdm.auto import tqdm

from .jobs import GradingJob, GradingResult
from .worker import PRELOAD, partial_result, process_main

_CONTEXT = None
_START_LOCK = threading.Lock()


@contextlib.contextmanager
def main_module_hidden():
    """Start processes without multiprocessing re-importing the caller's ``__main__``.

    Workers only need :mod:`deepfakelab.course.grading.worker`; re-running an instructor's
    unguarded script (or notebook) in every worker would be slow at best.
    """
    main = sys.modules.get("__main__")
    saved = {
        name: getattr(main, name)
        for name in ("__file__", "__spec__")
        if main is not None and hasattr(main, name)
    }
    with _START_LOCK:
        try:
            if main is not None:
                main.__spec__ = None
                if hasattr(main, "__file__"):
                    del main.__file__
            yield
        finally:
            for name, value in saved.items():
                setattr(main, name, value)


def process_context():
    """A forkserver context whose server has imported nbgrader once (see :data:`.worker.PRELOAD`)."""
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(PRELOAD)
    return _CONTEXT


def _noop() -> None:
    """Target of the warm-up process that makes the fork server import nbgrader early."""


def warm_up_workers() -> None:
    """Start the fork server in the background, so its imports overlap with the run's set-up."""
    ctx = process_context()

    def start():
        try:
            proc = ctx.Process(target=_noop)
            with main_module_hidden():
                proc.start()
            proc.join()
        except Exception:  # the first real job would report the same problem, with context
            pass

    threading.Thread(target=start, daemon=True, name="dfl-warm-up").start()


def kill_tree(pid: int) -> None:
    """Kill process ``pid`` and every process below it, and wait (5 s at most) until they are gone."""
    try:
        parent = psutil.Process(pid)
        procs = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for proc in procs:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=5)


def receive_within(conn, timeout: float, stop: threading.Event | None):
    """What arrives on ``conn`` within ``timeout`` s, or None (also when ``stop`` is set or the sender died)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if stop is not None and stop.is_set():
            return None
        if conn.poll(min(left, 0.25)):
            try:
                return conn.recv()
            except EOFError:
                return None
    return None


def run_worker(job: GradingJob, wall_timeout: float, stop: threading.Event | None = None) -> GradingResult:
    """Grade ``job`` in a fresh process; kill it (and its kernel) after ``wall_timeout`` s.

    A worker that ends without a result (killed, out of memory, past ``wall_timeout``) keeps the
    points of the cells it had finished (:func:`.worker.partial_result`). When ``stop`` is set
    (the instructor stopped the run) the worker is killed and the result says ``interrupted``:
    nothing of it is recorded, so the next run grades that submission again.
    """
    ctx = process_context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=process_main, args=(job, send), daemon=False)
    with main_module_hidden():
        proc.start()
    send.close()
    why = None
    deadline = time.monotonic() + wall_timeout
    try:
        while True:
            if stop is not None and stop.is_set():
                kill_tree(proc.pid)
                shutil.rmtree(job.progress, ignore_errors=True)
                return GradingResult.failed("stopped with the run before it finished", interrupted=True)
            left = deadline - time.monotonic()
            if left <= 0:
                why = f"the grading worker did not finish within {wall_timeout:.0f} s and was stopped"
                break
            if receive.poll(min(left, 0.25)):
                try:
                    return receive.recv()
                except EOFError:
                    pass
                proc.join(5)
                why = f"the grading worker was killed (exit {proc.exitcode})"
                break
    finally:
        receive.close()
        proc.join(0 if why is None else 5)
        if proc.is_alive():
            kill_tree(proc.pid)
        if why is None:
            shutil.rmtree(job.progress, ignore_errors=True)
    try:
        partial = partial_result(job, why)
    except Exception as exc:  # the progress could not be read: the submission scores 0 with why
        partial = None
        why += f" (its progress could not be read: {type(exc).__name__}: {exc})"
    return partial or GradingResult.failed(why)


@contextlib.contextmanager
def stopped_by_signals():
    """SIGTERM stops the run as Ctrl-C does (a KeyboardInterrupt in the main thread), so it loses nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_pool(
    jobs: list[GradingJob],
    wall_timeout: float,
    workers: int,
    stop: threading.Event,
    record: Callable[[GradingJob, GradingResult], None],
    progress: bool = True,
    desc: str = "grading",
) -> bool:
    """Grade ``jobs``, at most ``workers`` at a time, and ``record`` each result as it arrives.

    ``record`` runs in this thread, one result at a time. Returns whether the run was stopped
    (Ctrl-C, SIGTERM): ``stop`` is then set, the running workers are killed, and the results
    that arrived as it stopped are recorded too; the jobs not recorded are the next run's.
    """
    with (
        stopped_by_signals(),
        ThreadPoolExecutor(max_workers=workers) as pool,
        tqdm(total=len(jobs), desc=desc, unit="submission", disable=not progress) as bar,
    ):
        futures = {pool.submit(run_worker, job, wall_timeout, stop): job for job in jobs}
        finished = set()
        try:
            for future in as_completed(futures):
                finished.add(future)
                result = future.result()
                record(futures[future], result)
                bar.update(1)
                bar.set_postfix_str(f"{futures[future].student}: {result.score:g}/{result.max_score:g}")
        except KeyboardInterrupt:
            stop.set()
            for future in futures:
                future.cancel()
            pool.shutdown(wait=True)  # each running worker sees the stop within a quarter of a second
            for future in futures:  # results that arrived as the run stopped are kept too
                if (
                    future not in finished
                    and future.done()
                    and not future.cancelled()
                    and not future.result().interrupted
                ):
                    record(futures[future], future.result())
            return True
    return False

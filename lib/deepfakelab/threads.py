"""CPU threads on a shared machine: sleep while waiting, and how many threads to use.

torch's OpenMP worker threads spin while they wait for each other. When another CPU-bound job
takes one of the cores, the worker on it is descheduled and its partner spins away its own time
slice: on the 2-core development machine beside one or two other busy processes, the demo's
GAN fell from 6.7 to 0.7-1.0 steps/s with 2 threads. With ``OMP_WAIT_POLICY=PASSIVE`` (waiting
threads sleep) 2 threads kept 2.8-3.4 steps/s, and idle they lost nothing (6.8 steps/s); 1
thread got 1.9-3.8 steps/s beside the busy processes and 5.6 idle (``bench/threads.py``, the
website's Results page; noisy, as the machine was shared).

OpenMP reads the policy once, when torch loads its runtime. Importing the kit changes nothing
(no import-time side effects); each edge where a process starts makes one explicit call,
:func:`prepare_process`: the CLI's ``main``, every bench's ``__main__`` block, the test run's
``conftest.py``, and ``deepfakelab lab`` for the notebook kernels it starts. Nothing here
imports torch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: The environment variable OpenMP reads when torch loads it.
WAIT_POLICY = "OMP_WAIT_POLICY"


#: Set in a process that :func:`prepare_process` restarted, so it never restarts twice.
RESTARTED = "DEEPFAKELAB_RESTARTED_FOR_THREADS"


def prefer_passive_waiting() -> bool:
    """Ask OpenMP to let waiting threads sleep, unless the user chose a policy (or torch is loaded).

    Returns whether torch's threads will sleep while waiting.
    """
    if "torch" not in sys.modules:
        os.environ.setdefault(WAIT_POLICY, "PASSIVE")
    return passive_waiting()


def prepare_process(restart: bool = True) -> None:
    """The kit's process set-up, called once where a process starts (never on import).

    Sets ``OMP_WAIT_POLICY=PASSIVE`` unless the user chose a policy. When torch was already
    loaded with spinning threads (a script that imported torch at its top, as the benches do),
    the policy can only take effect in a new process: with ``restart``, the script is started
    again in place (``os.execv``, the same interpreter and arguments), which costs one more
    import of torch and keeps every measurement about what the commands do.
    """
    if prefer_passive_waiting() or WAIT_POLICY in os.environ or not restart:
        return
    if os.environ.get(RESTARTED) or not sys.orig_argv:
        return
    os.environ[WAIT_POLICY] = "PASSIVE"
    os.environ[RESTARTED] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, list(sys.orig_argv))


def passive_waiting() -> bool:
    """Whether torch's threads sleep while waiting (set before torch loaded its OpenMP runtime)."""
    return os.environ.get(WAIT_POLICY, "").upper() == "PASSIVE"


def busy_cores(cpus: int | None = None) -> float:
    """How many of the cores other work keeps busy: the 1-minute load average, at most ``cpus``."""
    cpus = cpus or os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # not on every platform
        return 0.0
    return min(float(load), float(cpus))


def choose_threads(available: int, busy: float | None = None, passive: bool | None = None) -> int:
    """torch threads for CPU work: all ``available`` (torch's default), or 1 when spinning
    threads would share busy cores.

    With passive waiting, 2 threads were about as fast as 1 beside busy cores (2.8-3.4 against
    1.9-3.8 steps/s with 1 or 2 other CPU-bound jobs on 2 cores) and faster idle (6.8 against
    5.6), so they are kept. Without it (torch was loaded before
    ``deepfakelab``, or the user set another policy), 2 spinning threads beside one busy core
    were 2-4x slower than 1 thread, so 1 thread is used once about a core's worth of other work
    shows in the load average. (In a container the load average is the host's: an
    overestimate, which only costs speed on the spinning path.)
    """
    busy = busy_cores() if busy is None else busy
    passive = passive_waiting() if passive is None else passive
    if available <= 1 or passive or busy < 0.75:
        return max(1, available)
    return 1


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """torch's threads set to ``count`` inside the block and restored after it (0: unchanged).

    For work whose networks are too small to share between threads while other processes of the
    same command (the video decoder and encoder) want the other core: the mesh warp's whole
    ``reenact`` ran at 38.7 frames/s with one torch thread against 23.8 with two on the 2-core
    machine (``bench/reenact_speed.py``). Nothing here imports torch: without it loaded there are no
    torch threads to set, and the block runs as it is.
    """
    torch = sys.modules.get("torch")
    if torch is None or count <= 0:  # 0: leave torch's threads as they are
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)

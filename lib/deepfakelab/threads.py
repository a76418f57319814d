"""CPU threads on a shared machine: sleep while waiting, and how many threads to use.

torch's OpenMP worker threads spin while they wait for each other. When another CPU-bound job
takes one of the cores, the worker on it is descheduled and its partner spins away its own time
slice: on the 2-core development machine beside one or two other busy processes, the demo's
GAN fell from 6.7 to 0.7-1.0 steps/s with 2 threads. With ``OMP_WAIT_POLICY=PASSIVE`` (waiting
threads sleep) 2 threads kept 2.8-3.4 steps/s, and idle they lost nothing (6.8 steps/s); 1
thread got 1.9-3.8 steps/s beside the busy processes and 5.6 idle (``bench/threads.py``, the
website's Results page; noisy, as the machine was shared).

OpenMP reads the policy once, when torch loads its runtime, so :func:`prefer_passive_waiting`
runs when ``deepfakelab`` is imported and has an effect only if torch was not imported before.
Nothing here imports torch.
"""

from __future__ import annotations

import os
import sys

#: The environment variable OpenMP reads when torch loads it.
WAIT_POLICY = "OMP_WAIT_POLICY"


def prefer_passive_waiting() -> None:
    """Ask OpenMP to let waiting threads sleep, unless the user chose a policy (or torch is loaded)."""
    if "torch" not in sys.modules:
        os.environ.setdefault(WAIT_POLICY, "PASSIVE")


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

"""Where and how a number was measured, written beside it in every results JSON.

The site's Results page is generated from the JSON files the benches (and ``reenact-eval``) write,
so a figure lives in one file. A figure without its circumstances misleads: the same bench on the
same 2 cores reads 1.6x slower beside one busy process. So each file carries one ``measured``
block: the command that reproduces it, the kit's version, the date, the CPU, and the load average
before and after, which the page prints under the table it generated.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
from pathlib import Path

from . import __version__


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> float | None:
    """The 1-minute load average, or ``None`` where the platform has none."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def command_line(program: str | None = None) -> str:
    """The command as a reader would type it from the repository root: ``python bench/x.py ...`` for a
    bench, ``deepfakelab reenact-eval ...`` for the CLI (``program``), paths as given."""
    argv = list(sys.argv)
    if program:
        head = [program]
    else:
        script = Path(argv[0])
        head = ["python", f"{script.parent.name}/{script.name}" if script.parent.name else script.name]
    return shlex.join(head + argv[1:])


class Measurement:
    """Start it before the work and call :meth:`record` after: the ``measured`` block of a JSON file.

    ``threads`` is how many torch threads the work used (``None``: not fixed).
    """

    def __init__(self, program: str | None = None, threads: int | None = None) -> None:
        self.command = command_line(program)
        self.threads = threads
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.load_before = load_average()

    def record(self) -> dict:
        """The block: command, kit version, date, machine, threads, load average before and after, wall s."""
        ended = datetime.datetime.now(datetime.timezone.utc)
        return {
            "command": self.command,
            "kit_version": __version__,
            "date": self.started.date().isoformat(),
            "machine": f"{cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}",
            "python": platform.python_version(),
            "threads": self.threads,
            "load_average_before": self.load_before,
            "load_average_after": load_average(),
            "wall_s": round((ended - self.started).total_seconds(), 1),
        }

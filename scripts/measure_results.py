"""Measure the Results page afresh: run each generated table's command, one at a time.

    .venv/bin/python scripts/measure_results.py              # every table (about an hour on 2 cores)
    .venv/bin/python scripts/measure_results.py --list       # the tables and their commands
    .venv/bin/python scripts/measure_results.py --only table_gan_throughput table_grade

The commands are the ones the page prints under its tables (``site/sitegen/results_jobs.py``,
their one home), so what this runs is what a reader would type. They run one after another,
never two at once: on a 2-core machine two benches would each measure the other. Each writes its
JSON into ``site/data/``; then ``make site`` shows the new numbers. A failed command is reported
in one line with its log's last lines, and the others still run; the exit status says whether
any failed. The detection tables on real people (``bench/detect_real.py``,
``bench/detect_leave_out.py``) and provenance (``bench/provenance.py``) need trained detectors or
an hour each and are measured by their own commands (see their modules).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "site"))

from sitegen.results_jobs import ALL_TABLES  # noqa: E402


def runnable(command: str) -> list[str]:
    """The page's command with this environment's programs: ``python`` is this interpreter and
    ``deepfakelab`` the command installed beside it."""
    words = shlex.split(command)
    if words[0] == "python":
        words[0] = sys.executable
    elif words[0] == "deepfakelab":
        words[0] = str(Path(sys.executable).with_name("deepfakelab"))
    return words


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="SNIPPET", help="measure only these tables")
    parser.add_argument("--list", action="store_true", help="print the tables and their commands")
    args = parser.parse_args(argv)
    tables = ALL_TABLES
    if args.only:
        unknown = sorted(set(args.only) - {t.snippet for t in ALL_TABLES})
        if unknown:
            parser.error(f"no such table: {', '.join(unknown)} (see --list)")
        tables = [t for t in ALL_TABLES if t.snippet in args.only]
    if args.list:
        for table in tables:
            print(f"{table.snippet}: {table.command}")
        return 0
    logs = REPO / "outputs" / "measure_results"
    logs.mkdir(parents=True, exist_ok=True)
    failed = []
    runs = {table.command: table for table in tables}  # two tables of one file: one run
    for number, table in enumerate(runs.values(), 1):
        print(f"[{number}/{len(runs)}] {table.command}", flush=True)
        start = time.perf_counter()
        log = logs / f"{table.snippet}.log"
        with log.open("w") as out:
            status = subprocess.run(runnable(table.command), cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        took = time.perf_counter() - start
        if status.returncode:
            tail = " | ".join(log.read_text().strip().splitlines()[-3:])
            print(f"  failed after {took:.0f} s (exit {status.returncode}; log {log}): {tail}", flush=True)
            failed.append(table.snippet)
        else:
            print(f"  wrote site/data/{table.data} in {took:.0f} s", flush=True)
    if failed:
        print(f"{len(failed)} of {len(runs)} failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build the course website: generate its figures, CLI help and API reference, then run MkDocs.

    .venv/bin/python site/build.py              # everything, into site/_build/
    .venv/bin/python site/build.py --no-mkdocs  # generate only, then `mkdocs serve -f site/mkdocs.yml`

Figures are drawn by the kit's own code (a tiny GAN run, rendered heads, the FOMM model,
the detector's metrics), so the pages show what this version of the kit does. Numbers that
take minutes to measure (every table of the Results page) are read from ``site/data/``, which
the benches write (``sitegen/results.py``). Parts of the kit that are not in this version are
skipped with a note, and the site still builds.
Nothing here touches the network; ``mkdocs build --strict`` runs last and fails on any
broken link, missing image or docstring it cannot render.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SITE = Path(__file__).resolve().parent
sys.path.insert(0, str(SITE))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # a banner about MkDocs 2, not about this site

from sitegen import fig_detect, fig_gan, fig_reenact  # noqa: E402
from sitegen.api_reference import write_api_reference  # noqa: E402
from sitegen.cli_help import write_cli_reference  # noqa: E402
from sitegen.figures import run_jobs  # noqa: E402
from sitegen.jobs import ALL_JOBS  # noqa: E402
from sitegen.results import write_results_tables  # noqa: E402
from sitegen.results_jobs import ALL_TABLES  # noqa: E402
from sitegen.snippets import FIGURES, GENERATED  # noqa: E402
from sitegen.table_detect_leave_out import write_detect_leave_out_table  # noqa: E402
from sitegen.table_detect_real import write_detect_real_table  # noqa: E402
from sitegen.table_provenance import write_provenance_table  # noqa: E402


def generate(quick: bool, strict_figures: bool) -> dict:
    """Write every generated file afresh (old figures of a removed part must not linger)."""
    import torch

    # The figures' networks are small: one thread is as fast as two on an idle machine and
    # several times faster on a busy one (measured: 11 s against 50 s for the GAN figures).
    torch.set_num_threads(1)
    for folder in (FIGURES, GENERATED):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    summary = {"figures": run_jobs(ALL_JOBS, quick=quick, strict=strict_figures)}
    summary["cli_commands"] = write_cli_reference()
    summary["api_modules"] = write_api_reference()
    summary["detect_real_table"] = write_detect_real_table()
    summary["detect_leave_out_table"] = write_detect_leave_out_table()
    summary["provenance_table"] = write_provenance_table()
    summary["results_tables"] = write_results_tables(ALL_TABLES)
    (GENERATED / "build_summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def run_mkdocs(site_dir: Path | None) -> None:
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-f", str(SITE / "mkdocs.yml")]
    if site_dir is not None:
        command += ["--site-dir", str(site_dir.resolve())]
    subprocess.run(command, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller figure runs (for tests)")
    parser.add_argument(
        "--strict-figures",
        action="store_true",
        help="fail when a figure job fails although its part of the kit is present",
    )
    parser.add_argument("--no-mkdocs", action="store_true", help="only generate figures and pages")
    parser.add_argument("--site-dir", type=Path, help="where to write the site (default: site/_build)")
    parser.add_argument(
        "--gan-run",
        type=Path,
        help="draw the GAN figures from this finished run folder (history.csv, samples/) instead "
        "of a short run made during the build",
    )
    parser.add_argument(
        "--fomm-checkpoint",
        type=Path,
        help="draw the FOMM figures (keypoints, motion, occlusion, strip) from these trained weights",
    )
    parser.add_argument(
        "--detector-weights",
        type=Path,
        help="draw the explainability maps with these detector weights (default: the shipped ones, if any)",
    )
    args = parser.parse_args(argv)
    fig_detect.WEIGHTS = args.detector_weights
    fig_gan.RUN_DIR = args.gan_run
    fig_reenact.CHECKPOINT = args.fomm_checkpoint
    start = time.perf_counter()
    summary = generate(args.quick, args.strict_figures)
    made = sum(1 for job in summary["figures"].values() if job["status"] == "made")
    print(
        f"[site] generated in {time.perf_counter() - start:.1f} s: {made}/{len(summary['figures'])} figure jobs made"
    )
    if not args.no_mkdocs:
        run_mkdocs(args.site_dir)
        print(f"[site] built in {time.perf_counter() - start:.1f} s: {args.site_dir or SITE / '_build'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

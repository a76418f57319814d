"""The Results page's generated tables, in the page's order: one :class:`ResultsTable` per bench file."""

from __future__ import annotations

from . import table_demo, table_gan, table_reenact, table_threads
from .results import ResultsTable

REAL_VIDEOS_COMMAND = (
    "deepfakelab reenact-eval --real-videos ../shared/data/real --frames 30 "
    "--checkpoint lib/deepfakelab/assets/fomm-small-64.pth.tar --size 64 "
    "--same-person hdtf_aoc.mp4,retalk_3.mp4 --json site/data/reenact_real.json"
)

ALL_TABLES: list[ResultsTable] = [
    ResultsTable("table_reenact_real", "reenact_real.json", REAL_VIDEOS_COMMAND, table_reenact.reenact_real),
    ResultsTable(
        "table_gan_throughput",
        "gan.json",
        "python bench/gan.py --json site/data/gan.json",
        table_gan.gan_throughput,
    ),
    ResultsTable(
        "table_gan_quality",
        "gan_quality.json",
        "python bench/gan_quality.py --minutes 10 --json site/data/gan_quality.json",
        table_gan.gan_quality,
    ),
    ResultsTable(
        "table_threads",
        "threads.json",
        "python bench/threads.py --competitors 0 1 2 --json site/data/threads.json",
        table_threads.threads_table,
    ),
    ResultsTable(
        "table_demo_load",
        "demo_load.json",
        "python bench/demo_load.py --json site/data/demo_load.json",
        table_demo.demo_load,
    ),
]

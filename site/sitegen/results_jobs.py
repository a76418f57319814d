"""The Results page's generated tables, in the page's order: one :class:`ResultsTable` per bench file."""

from __future__ import annotations

from . import table_detect_synthetic, table_grade, table_heads, table_reenact
from .results import ResultsTable

REAL_VIDEOS_COMMAND = (
    "deepfakelab reenact-eval --real-videos ../shared/data/real --frames 30 "
    "--checkpoint lib/deepfakelab/assets/fomm-small-64.pth.tar --size 64 "
    "--same-person hdtf_aoc.mp4,retalk_3.mp4 --json site/data/reenact_real.json"
)
#: One run gives both detection tables on synthetic heads: the runs' evaluations and the throughput.
DETECT_SYNTHETIC_COMMAND = "python bench/detect.py --threads 2 --json site/data/detect_synthetic.json"

ALL_TABLES: list[ResultsTable] = [
    ResultsTable("table_reenact_real", "reenact_real.json", REAL_VIDEOS_COMMAND, table_reenact.reenact_real),
    ResultsTable(
        "table_detect_synthetic",
        "detect_synthetic.json",
        DETECT_SYNTHETIC_COMMAND,
        table_detect_synthetic.detect_synthetic,
    ),
    ResultsTable(
        "table_detect_throughput",
        "detect_synthetic.json",
        DETECT_SYNTHETIC_COMMAND,
        table_detect_synthetic.detect_throughput,
    ),
    ResultsTable(
        "table_heads", "heads.json", "python bench/heads.py --json site/data/heads.json", table_heads.heads
    ),
    ResultsTable(
        "table_grade", "grade.json", "python bench/grade.py --json site/data/grade.json", table_grade.grade
    ),
]

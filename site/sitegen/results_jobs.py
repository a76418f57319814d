"""The Results page's generated tables, in the page's order: one :class:`ResultsTable` per bench file."""

from __future__ import annotations

from . import table_reenact
from .results import ResultsTable

REAL_VIDEOS_COMMAND = (
    "deepfakelab reenact-eval --real-videos ../shared/data/real --frames 30 "
    "--checkpoint lib/deepfakelab/assets/fomm-small-64.pth.tar --size 64 "
    "--same-person hdtf_aoc.mp4,retalk_3.mp4 --json site/data/reenact_real.json"
)

ALL_TABLES: list[ResultsTable] = [
    ResultsTable("table_reenact_real", "reenact_real.json", REAL_VIDEOS_COMMAND, table_reenact.reenact_real),
]

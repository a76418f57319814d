"""The Results page's generated tables, in the page's order: one :class:`ResultsTable` per bench file."""

from __future__ import annotations

from . import (
    table_demo,
    table_detect_synthetic,
    table_fomm,
    table_gan,
    table_grade,
    table_heads,
    table_reenact,
    table_threads,
)
from .results import ResultsTable

REAL_VIDEOS_COMMAND = (
    "deepfakelab reenact-eval --real-videos ../shared/data/real --frames 30 "
    "--checkpoint lib/deepfakelab/assets/fomm-small-64.pth.tar --size 64 "
    "--same-person hdtf_aoc.mp4,retalk_3.mp4 --json site/data/reenact_real.json"
)
SYNTHETIC_HEADS_COMMAND = (
    "deepfakelab reenact-eval --checkpoint lib/deepfakelab/assets/fomm-small-64.pth.tar --videos 20 "
    "--json site/data/reenact_synthetic.json"
)
ENGINES_VOX256_COMMAND = (
    "python bench/reenact.py --frames 8 --repeats 2 --threads 2 --json site/data/fomm_engines_vox256.json"
)
ENGINES_SMALL128_COMMAND = (
    "python bench/reenact.py --config fomm-small-64 --size 128 --frames 32 --batch-size 16 --threads 2 "
    "--repeats 3 --json site/data/fomm_engines_small128.json"
)

#: One run gives both detection tables on synthetic heads: the runs' evaluations and the throughput.
DETECT_SYNTHETIC_COMMAND = "python bench/detect.py --threads 2 --json site/data/detect_synthetic.json"

ALL_TABLES: list[ResultsTable] = [
    ResultsTable("table_reenact_real", "reenact_real.json", REAL_VIDEOS_COMMAND, table_reenact.reenact_real),
    ResultsTable(
        "table_mesh_warp_turns",
        "mesh_warp_turns.json",
        "python bench/mesh_warp_turns.py --json site/data/mesh_warp_turns.json",
        table_reenact.mesh_warp_turns,
    ),
    ResultsTable(
        "table_reenact_synthetic",
        "reenact_synthetic.json",
        SYNTHETIC_HEADS_COMMAND,
        table_fomm.reenact_synthetic,
    ),
    ResultsTable(
        "table_reenact_speed",
        "reenact_speed.json",
        "python bench/reenact_speed.py --repeats 2 --json site/data/reenact_speed.json",
        table_reenact.reenact_speed,
    ),
    ResultsTable(
        "table_face_mesh",
        "face_mesh.json",
        "python bench/face_mesh.py --json site/data/face_mesh.json",
        table_reenact.face_mesh,
    ),
    ResultsTable(
        "table_fomm_engines_vox256",
        "fomm_engines_vox256.json",
        ENGINES_VOX256_COMMAND,
        table_fomm.fomm_engines,
    ),
    ResultsTable(
        "table_fomm_engines_small128",
        "fomm_engines_small128.json",
        ENGINES_SMALL128_COMMAND,
        table_fomm.fomm_engines,
    ),
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
    ResultsTable(
        "table_fresh_clone",
        "fresh_clone.json",
        "python bench/fresh_clone.py --json site/data/fresh_clone.json",
        table_demo.fresh_clone,
    ),
    ResultsTable(
        "table_grade", "grade.json", "python bench/grade.py --json site/data/grade.json", table_grade.grade
    ),
]

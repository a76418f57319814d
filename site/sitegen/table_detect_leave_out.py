"""The detection page's table of fakes the detector never saw, from measured numbers.

The numbers come from ``bench/detect_leave_out.py --json site/data/detect_leave_out.json``
(committed; the runs behind it take an hour of CPU, ``scripts/train_leave_out.sh``). Aggregates
only, like ``detect_real.json``: no face and no per-file score of the shared people. A missing
file becomes a note on the page, so the site still builds.
"""

from __future__ import annotations

import json
from pathlib import Path

from .snippets import SITE, write_snippet

DATA = SITE / "data" / "detect_leave_out.json"
COMMAND = "python bench/detect_leave_out.py --run KIND=WEIGHTS ... --json site/data/detect_leave_out.json"

#: The kinds' names on the page (the face sets' names for them, commas joining one method's two names).
NAMES = {
    "mesh_warp": "the kit's mesh warp",
    "reenact,landmark_warp": "landmark warp (5 points)",
    "face_swap": "face swap",
    "fomm": "FOMM (synthetic heads only)",
}
#: (column heading, key in a run's parts)
COLUMNS = (
    ("real videos", "video_auc"),
    ("real photos", "photo_auc"),
    ("synthetic heads", "synthetic_video_auc"),
)


def _pair(run: dict, key: str) -> str:
    left_out, seen = run["left_out"].get(key), run["seen"].get(key)
    if left_out is None:
        return "-"
    return f"{left_out:.3f} ({seen:.3f})" if seen is not None else f"{left_out:.3f}"


def table_markdown(data: dict) -> str:
    """The Markdown table, what each cell means, and the command."""
    head = "| kind of fake left out of training | " + " | ".join(f"AUC, {name}" for name, _ in COLUMNS) + " |"
    rows = [
        f"| {NAMES.get(kind, kind)} | " + " | ".join(_pair(run, key) for _, key in COLUMNS) + " |"
        for kind, run in data["results"].items()
    ]
    return "\n".join(
        [
            "Each row is a detector trained with one kind of fake left out of training and validation "
            "entirely, then scored on that kind alone against the real test people (video AUC on their "
            "videos, photo AUC on their photos, and video AUC on the synthetic test heads). In brackets: "
            f"a detector that saw every kind in training ({data.get('reference_name', 'the reference')}). The "
            f"left-out runs train for {data.get('epochs', 'fewer')} epoch(s) on the same data, the reference "
            "for longer, so the brackets are an upper reference, not a like-for-like pair.",
            "",
            head,
            "| --- |" + " ---: |" * len(COLUMNS),
            *rows,
            "",
            f"Measured by `{COMMAND}`" + (f" ({data['measured']})" if data.get("measured") else "") + ".",
        ]
    )


def write_detect_leave_out_table(path: Path = DATA) -> str:
    """Write the snippet ``table_detect_leave_out.md``; return ``"made"`` or ``"missing"``."""
    if not path.is_file():
        write_snippet(
            "table_detect_leave_out",
            f'!!! note "Table not in this build"\n    `{path.name}` is missing; `{COMMAND}` writes it.',
        )
        return "missing"
    write_snippet("table_detect_leave_out", table_markdown(json.loads(path.read_text())))
    return "made"

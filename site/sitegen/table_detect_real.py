"""The detectors on held-out real people, from measured numbers: the table the detection and
Results pages include, and the Results page's targets, throughput and AUC by kind of fake.

The numbers come from ``bench/detect_real.py --json site/data/detect_real.json`` (minutes on a
CPU: it scores three detectors on every test crop), committed, not measured during the site
build. The file holds aggregates only (AUCs, rates, counts): the shared real videos' people
agreed to no publication, so no face of theirs, nor any per-video score, reaches the site. A
missing file becomes a note on the page, so the site still builds.
"""

from __future__ import annotations

import json
from pathlib import Path

from .snippets import SITE, write_snippet

DATA = SITE / "data" / "detect_real.json"
COMMAND = "python bench/detect_real.py --json site/data/detect_real.json"

#: (column heading, key in a row's "real" part, or "synthetic:" + key in its "synthetic" part)
COLUMNS = (
    ("frame AUC", "frame_auc"),
    ("video AUC", "video_auc"),
    ("video AUC within each person", "video_auc_within_person"),
    ("EER", "eer"),
    ("AP", "ap"),
    ("real videos called fake at 0.5", "reals_called_fake"),
    ("photo AUC", "photo_auc"),
    ("real photos called fake at 0.5", "photos_called_fake"),
    ("identity-leak gap", "identity_leak_gap"),
    ("ECE", "ece"),
    ("video AUC after JPEG 50", "video_auc_jpeg50"),
    ("pointing game (Grad-CAM)", "pointing_game"),
    ("synthetic video AUC", "synthetic:video_auc"),
)


#: Row names on the page for the bench's keys (``shipped/given`` is ``--weights``, by default the shipped file).
NAMES = {"shipped/given": "shipped detector (MobileNetV2, fine-tuned)"}


def _cell(row: dict, key: str) -> str:
    part, key = ("synthetic", key.split(":", 1)[1]) if key.startswith("synthetic:") else ("real", key)
    value = row.get(part, {}).get(key)
    if value is None:
        return "-"
    if key in ("reals_called_fake", "photos_called_fake"):
        n = row["real"].get("real_videos" if key == "reals_called_fake" else "real_photos")
        return f"{round(value * n)} of {n}" if n else f"{value:.0%}"
    if key == "identity_leak_gap":
        return f"{value:+.2f}"
    return f"{value:.3f}"


def table_markdown(data: dict) -> str:
    """The Markdown table, the sentence on where the numbers come from, and the command."""
    results = data["results"]
    first = next(iter(results.values()))["real"]
    people = data.get("test_persons", 5)
    head = "| detector | " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "| --- |" + " ---: |" * len(COLUMNS)
    rows = [
        f"| {NAMES.get(name, name)} | " + " | ".join(_cell(row, key) for _, key in COLUMNS) + " |"
        for name, row in results.items()
    ]
    gap = first.get("real_score_by_split", {})
    why = (
        []
        if not {"train", "test"} <= gap.keys()
        else [
            "",
            f"The identity-leak gap: the shipped detector's mean fake probability on real faces is "
            f"{gap['train']:.2f} for the people it was trained on"
            + (f", {gap['val']:.2f} for the validation people" if "val" in gap else "")
            + f" and {gap['test']:.2f} for the test people. A detector that partly recognises the faces it "
            "was trained on scores every new face, real or fake, higher on its scale; the gap (test minus "
            "training) says how much."
            + "".join(
                f" On {what} alone: {apart['train']:.2f} for the training people, {apart['test']:.2f} for the "
                "test people."
                for what, key in (
                    ("videos", "real_video_score_by_split"),
                    ("photos", "real_photo_score_by_split"),
                )
                for apart in [first.get(key, {})]
                if {"train", "test"} <= apart.keys()
            )
            + (
                f" Within each test person (their real video against the fakes of their face) its video AUC is "
                f"{first['video_auc_within_person']:.3f}, against {first['video_auc']:.3f} pooled over people."
                if first.get("video_auc_within_person") is not None
                else ""
            ),
        ]
    )
    return "\n".join(
        [
            f"The numbers come from {people} held-out people, never trained on. Videos: "
            f"{first['real_videos']} real videos against the {first['fake_videos']} fake videos the kit made "
            f"from them (self-blends, face swaps, landmark and mesh-warp reenactments; {first['frames']} frames "
            "in all), so each video AUC rests on a handful of real videos."
            + (
                f" Photos: {first['real_photos']} real photos against the {first['fake_photos']} fakes made of "
                "them (each photo and each fake scored alone)."
                if first.get("real_photos")
                else ""
            )
            + " The synthetic column is the synthetic-heads test split. "
            "Aggregates only: no face of these people is shown on this site.",
            "",
            head,
            rule,
            *rows,
            *why,
            "",
            f"Measured by `{COMMAND}`" + (f" ({data['measured']})" if data.get("measured") else "") + ".",
        ]
    )


#: The bench's names of the kinds of fake (``per_kind_video_auc``), as the page says them.
KINDS = {
    "self_blend": "self-blend",
    "reenact": "landmark reenactment",
    "mesh_warp": "mesh warp",
    "face_swap": "face swap",
}


def checks_markdown(data: dict) -> str:
    """The Results page's part under the table (which names the command): the bench's targets,
    met or not, its throughput, and the shipped detector's video AUC by kind of fake. Every
    number is read from ``data``; a part the file does not hold is left out."""
    lines = []
    checks = data.get("checks") or {}
    if checks:
        lines += [
            "| target (the bench's checks) | met |",
            "| --- | --- |",
            *(f"| {name} | {'yes' if met else '**no**'} |" for name, met in checks.items()),
            "",
        ]
    if data.get("fps") is not None:
        lines.append(
            f"- **Throughput** of the shipped detector (decode, MTCNN crop, score and "
            f"Grad-CAM, as `deepfakelab detect` analyses a video): {data['fps']:.1f} frames/s"
            + (
                f"; {data['fps_with_provenance']:.1f} with the provenance check `detect` adds (it reads "
                "each file's marks once)"
                if data.get("fps_with_provenance") is not None
                else ""
            )
            + "."
        )
    shipped = data.get("results", {}).get("shipped/given", {}).get("real", {})
    kinds = shipped.get("per_kind_video_auc") or {}
    if kinds:
        lines.append(
            "- **Video AUC by kind of fake** (shipped detector): "
            + ", ".join(f"{KINDS.get(k, k)} {v:.2f}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
            + "."
        )
    return "\n".join(lines)


def write_detect_real_table(path: Path = DATA) -> str:
    """Write the snippets ``table_detect_real.md`` (the table) and ``table_detect_real_checks.md``
    (targets, throughput, AUC by kind of fake); return ``"made"`` or ``"missing"``."""
    if not path.is_file():
        note = f'!!! note "Table not in this build"\n    `{path.name}` is missing; `{COMMAND}` measures it.\n'
        write_snippet("table_detect_real", note)
        write_snippet("table_detect_real_checks", "")
        return "missing"
    data = json.loads(path.read_text())
    write_snippet("table_detect_real", table_markdown(data))
    write_snippet("table_detect_real_checks", checks_markdown(data))
    return "made"

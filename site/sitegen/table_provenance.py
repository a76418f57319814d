"""The provenance page's robustness table, from the numbers ``bench/provenance.py`` measured.

The numbers come from ``site/data/provenance.json`` (written by the bench and committed; minutes
on a CPU, so not measured during the site build). Every number on the page is read from that file,
so the page cannot drift from the bench. The file holds aggregates only (rates, counts, dB, times):
the generated clips were made from the shared photos of real people, whose faces are never shown
on the site, and the names of real files a watermark was wrongly found in (none so far) are not
printed either. A missing file becomes a note on the page, so the site still builds.
"""

from __future__ import annotations

import json
from pathlib import Path

from .snippets import SITE, write_snippet

DATA = SITE / "data" / "provenance.json"
COMMAND = "python bench/provenance.py --json site/data/provenance.json"

#: (key in the bench's "recovered_*" parts, what was done to the fake, as the page says it)
ATTACKS = (
    ("none", "nothing (the file as the kit wrote it)"),
    ("h264_crf28", "re-encoded with H.264, CRF 28 (the C2PA manifest is lost)"),
    ("jpeg50", "every frame saved as JPEG, quality 50"),
    ("downscale_0.5", "downscaled to half the width and height"),
    ("crop_10pct", "10 % border crop (5 % off each side)"),
)


def _count(rate: float | None, total: int) -> str:
    """``"67 of 80 (84 %)"``: a rate as the count it was measured on."""
    if rate is None:
        return "-"
    return f"{round(rate * total)} of {total} ({100 * rate:.0f} %)"


def table_markdown(data: dict) -> str:
    """The robustness table, then the false positives, invisibility and cost, and the command."""
    generated, real = data["generated"], data.get("real_media", {})
    clips, singles = generated["clips"], generated["single_frames_scored"]
    rows = [
        f"| {label} | {_count(generated['recovered_clips'].get(key), clips)} | "
        f"{_count(generated['recovered_single_frames'].get(key), singles)} |"
        for key, label in ATTACKS
    ]
    groups = generated.get("recovered_clips_by_group", {})
    drivers = generated.get("drivers", {})
    if groups:
        made = (
            f"{clips} fakes made as `deepfakelab reenact` makes them (mesh warp, "
            f"{generated['frames_per_clip']} frames each): {groups.get('real photo', {}).get('clips', 0)} of real "
            f"photos and {groups.get('synthetic head', {}).get('clips', 0)} of synthetic heads, driven in turn by "
            f"{drivers.get('synthetic heads', 0)} synthetic talking heads and {drivers.get('real videos', 0)} real "
            "talking-head videos, written in turn as the 256 px face crop, pasted back into the whole photo, "
            "side by side with source and driver, and with the visible band; watermarked and signed by the kit's "
            "own writer, then attacked."
        )
    else:
        made = (
            f"{clips} fakes made as `deepfakelab reenact` makes them (mesh warp, 256 px, "
            f"{generated['frames_per_clip']} frames each), watermarked and signed by the kit's own writer, then "
            "attacked."
        )
    lines = [
        made + " A payload counts only when it is found *and* equals the one written. A whole clip is read "
        "as `verify` and `detect` read it (up to 24 frames folded together); a single frame is one picture "
        "alone, as after a screenshot.",
        "",
        "| what was done to the fake | payload recovered, whole clip | payload recovered, single frame |",
        "| --- | ---: | ---: |",
        *rows,
        "",
    ]
    if groups:
        labels = dict(ATTACKS)
        worst = []
        for name, group in groups.items():
            key = min((k for k, _ in ATTACKS if k in group), key=lambda k: group[k])
            worst.append(
                f"{name} {_count(group[key], group['clips'])}"
                + ("" if group[key] == 1 else f" ({labels[key].split(' (')[0]})")
            )
        lines.append(
            "- **By kind of fake** (whole clip, the lowest rate over the five attacks, and which attack "
            "when below 100 %): " + "; ".join(worst) + "."
        )
    if real:
        files, found = real["files"], real["false_positives"]
        bound = (
            f" (none in {files}: the true rate is below about {300 / files:.2f} % at 95 % confidence, by the rule of three)"
            if found == 0 and files
            else ""
        )
        lines.append(
            f"- **False positives:** a watermark was found in {found} of {files} real photos and videos the kit "
            f"never marked{bound}. Their highest detection score was {real['highest_sync_z']:.1f}; a mark "
            f"needs {real['threshold_sync_z']:.1f}."
        )
    psnr = generated.get("psnr_db", {})
    if psnr:
        lines.append(
            f"- **Invisible:** PSNR of a marked frame against the same frame unmarked: mean "
            f"{psnr['mean']:.1f} dB, lowest {psnr['min']:.1f} dB (the added pattern's RMS is "
            f"{data['watermark']['strength_rms']:g} grey levels)."
        )
    scales = data.get("watermark", {}).get("scales_searched")
    if scales:
        lines.append(
            f"- **Rescaled copies:** the detector tries the scales {', '.join(f'{s:.2g}' for s in scales)}; "
            "a copy resized by another factor is not searched and may be missed."
        )
    if "c2pa_valid_after_writing" in generated:
        lines.append(
            f"- **C2PA:** the manifest of {_count(generated['c2pa_valid_after_writing'], clips)} "
            "written files read as valid with `c2pa-python`'s reader."
        )
    cost = [
        f"embedding {generated['embed_ms_per_256px_frame']:.1f} ms per 256 px frame"
        if "embed_ms_per_256px_frame" in generated
        else "",
        f"signing {generated['sign_ms_per_file']:.0f} ms per file" if "sign_ms_per_file" in generated else "",
    ]
    speed = data.get("reenact_speed")
    if speed:
        cost.append(
            f"`reenact` ran at {speed['marked_fps']:.1f} frames/s marked against "
            f"{speed['unmarked_fps']:.1f} unmarked ({speed['marked_over_unmarked']:.2f}x)"
        )
    if any(cost):
        lines.append("- **Cost:** " + "; ".join(c for c in cost if c) + ".")
    lines += [
        "",
        f"Measured by `{data.get('command') or COMMAND}` (kit {data.get('kit_version', '?')}, "
        f"{data.get('machine', 'machine not recorded')}).",
    ]
    return "\n".join(lines)


def write_provenance_table(path: Path = DATA) -> str:
    """Write the snippet ``table_provenance.md``; return ``"made"`` or ``"missing"``."""
    if not path.is_file():
        write_snippet(
            "table_provenance",
            f'!!! note "Table not in this build"\n    `{path.name}` is missing; `{COMMAND}` measures it.\n',
        )
        return "missing"
    write_snippet("table_provenance", table_markdown(json.loads(path.read_text())))
    return "made"

"""The detection report: one self-contained HTML page, PNG figures and a JSON of every number.

The HTML embeds its images as base64 ``data:`` URIs and has no scripts or external styles, so
it opens offline, from an e-mail attachment or a USB stick. Inputs that failed (unreadable
file, too few frames) and frames without a face are listed on the page, never left out.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import cv2
import numpy as np

from ..faces.boxes import uncrop
from ..media.frames import evenly_spaced
from .explain import overlay
from .inference import DetectorCard, VideoResult

#: Frames drawn whole in the report are shrunk to at most this many pixels on their longer side:
#: drawn at full size, one 6000 x 6000 photo kept the report busy 43 s (2 loaded CPU cores) for a
#: picture a few inches wide.
SHOWN_FRAME_SIDE = 768


def domain_line(card: DetectorCard, result: VideoResult) -> str | None:
    """One line naming the detector and its training domain when ``result``'s faces look unlike
    that domain (or when the weights cannot tell); None when they look like it or nothing was scored."""
    if not result.frames or result.unlike_training is False:
        return None
    why = ("these faces are unlike its training data" if result.unlike_training
           else "its weights cannot tell whether these faces are like its training data")
    return f"{card.name} was trained on {card.trained_on}; {why}, so the verdict is a guess, not evidence"


def verdict(p_fake: float | None) -> str:
    """``"fake 87 % / real 13 %"``, the line the course asks students to report."""
    if p_fake is None:
        return "no verdict"
    fake = int(round(100 * p_fake))
    return f"{'FAKE' if p_fake >= 0.5 else 'REAL'}: fake {fake} % / real {100 - fake} %"


def _safe_name(path: str, taken: set[str]) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(path).stem) or "input"
    name, i = stem, 2
    while name in taken:
        name, i = f"{stem}_{i}", i + 1
    taken.add(name)
    return name


def choose_frames(result: VideoResult, n: int = 4) -> list:
    """Up to ``n`` frames to show: the most and least fake-looking and evenly spread ones between."""
    ranked = sorted(result.frames, key=lambda f: f.p_fake)
    if len(ranked) <= n:
        return sorted(ranked, key=lambda f: f.index)
    picks = evenly_spaced(len(ranked), n)
    return sorted({ranked[i].index: ranked[i] for i in picks}.values(), key=lambda f: f.index)


def plot_scores(result: VideoResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6), dpi=100)
    xs = [f.index for f in result.frames]
    ax.plot(xs, [f.p_fake for f in result.frames], "o-", ms=3, color="tab:red", label="P(fake)")
    if result.no_face:
        ax.plot(result.no_face, [0.0] * len(result.no_face), "x", color="grey", label="no face")
    ax.axhline(0.5, color="black", lw=0.8, ls="--")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("frame index")
    ax.set_ylabel("P(fake)")
    ax.set_title(f"{Path(result.path).name}: {verdict(result.p_fake)}", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_maps(result: VideoResult, frames: list, methods: list[str], path: Path) -> Path:
    """One row per chosen frame: the crop, one overlay per method, the default map on the frame."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 2 + len(methods)
    fig, axes = plt.subplots(len(frames), cols, figsize=(2.0 * cols, 2.1 * len(frames)), dpi=90,
                             squeeze=False)
    for row, frame in zip(axes, frames):
        row[0].imshow(frame.crop.image)
        row[0].set_title(f"frame {frame.index}\nP(fake) {frame.p_fake:.2f}", fontsize=8)
        for ax, method in zip(row[1:], methods):
            ax.imshow(overlay(frame.crop.image, frame.maps[method]))
            ax.set_title(method, fontsize=8)
        full = result.frame_images.get(frame.index)
        if full is not None:
            shown, box = shown_frame(full, frame.crop.crop_box)
            row[-1].imshow(overlay(shown, uncrop(frame.maps[methods[0]], box, shown.shape), weight=0.4))
            row[-1].set_title(f"{methods[0]} on the frame", fontsize=8)
        for ax in row:
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_summary(results: list[VideoResult], path: Path) -> Path:
    """Every input side by side: a bar of P(fake) per video (failed inputs marked)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4, 1.3 * len(results)), 3), dpi=100)
    names = [Path(r.path).name for r in results]
    values = [r.p_fake if r.p_fake is not None else 0.0 for r in results]
    colours = ["grey" if r.p_fake is None else ("tab:red" if r.p_fake >= 0.5 else "tab:green")
               for r in results]
    ax.bar(range(len(results)), values, color=colours)
    for i, r in enumerate(results):
        ax.text(i, values[i] + 0.02, "error" if r.p_fake is None else f"{100 * r.p_fake:.0f} %",
                ha="center", fontsize=8)
    ax.set_xticks(range(len(results)), names, rotation=20, fontsize=8)
    ax.axhline(0.5, color="black", lw=0.8, ls="--")
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("P(fake), mean over frames")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(path.name)}">'


def shown_frame(frame: np.ndarray, crop_box) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """``frame`` shrunk to at most :data:`SHOWN_FRAME_SIDE` pixels, and ``crop_box`` in its pixels."""
    scale = min(1.0, SHOWN_FRAME_SIDE / max(frame.shape[:2]))
    if scale == 1.0:
        return frame, tuple(crop_box)
    size = (max(round(frame.shape[1] * scale), 1), max(round(frame.shape[0] * scale), 1))
    box = tuple(int(round(v * scale)) for v in crop_box)
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA), box


def scored_summary(result: VideoResult) -> str:
    """"12 frames scored of 183 (25 fps)", or "a still image, scored" for a photo (no frame rate)."""
    if result.fps <= 0:
        return "a still image, scored" if result.frames else "a still image"
    return f"{len(result.frames)} frames scored of {result.frame_count} ({result.fps:g} fps)"


def result_numbers(result: VideoResult) -> dict:
    return {
        "path": result.path,
        "fps": result.fps,
        "frame_count": result.frame_count,
        "p_fake": result.p_fake,
        "p_real": None if result.p_fake is None else 1.0 - result.p_fake,
        "verdict": verdict(result.p_fake),
        "error": result.error,
        "notes": result.notes,
        "no_face_frames": result.no_face,
        "unlike_training": result.unlike_training,
        "domain_distance": result.domain_distance,
        "frames": [{"index": f.index, "p_fake": f.p_fake, "face_box": [round(v, 1) for v in f.crop.box],
                    "crop_box": list(f.crop.crop_box), "face_confidence": f.crop.confidence}
                   for f in result.frames],
    }


def write_report(results: list[VideoResult], out_dir: str | Path, methods: list[str],
                 info: dict | None = None, shown_frames: int = 4,
                 card: DetectorCard | None = None) -> dict[str, Path]:
    """Write ``report.html``, ``report.json`` and the PNGs into ``out_dir``; return their paths.

    ``card`` (the detector's name and training domain) adds a line to every input whose faces
    are unlike that domain."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {"summary": plot_summary(results, out_dir / "summary.png")}
    taken: set[str] = set()
    sections = []
    for result in results:
        name = _safe_name(result.path, taken)
        title = html.escape(Path(result.path).name)
        parts = [f"<section><h2>{title}</h2>"]
        if result.error:
            parts.append(f'<p class="error">Not analysed: {html.escape(result.error)}</p>')
        else:
            parts.append(f'<p class="verdict">{html.escape(verdict(result.p_fake))}</p>'
                         f"<p>{html.escape(scored_summary(result))}.</p>")
            parts += [f'<p class="warn">{html.escape(note)}</p>' for note in result.notes]
            note = domain_line(card, result) if card else None
            if note:
                parts.append(f'<p class="warn">{html.escape(note)}</p>')
            if result.no_face:
                parts.append(f'<p class="warn">No face found in frames {result.no_face} '
                             "(not scored).</p>")
            if result.frames:
                files[f"{name}_scores"] = plot_scores(result, out_dir / f"{name}_scores.png")
                files[f"{name}_maps"] = plot_maps(result, choose_frames(result, shown_frames), methods,
                                                  out_dir / f"{name}_maps.png")
                parts.append(_img(files[f"{name}_scores"]) + "<br>" + _img(files[f"{name}_maps"]))
        parts.append("</section>")
        sections.append("".join(parts))

    detector = {**(info or {}), **({"name": card.name, "trained_on": card.trained_on} if card else {})}
    numbers = {"methods": methods, "detector": detector, "videos": [result_numbers(r) for r in results]}
    files["json"] = out_dir / "report.json"
    files["json"].write_text(json.dumps(numbers, indent=2))
    rows = "".join(
        f"<tr><td>{html.escape(Path(r.path).name)}</td><td>{html.escape(verdict(r.p_fake))}</td>"
        f"<td>{len(r.frames)}</td><td>{len(r.no_face)}</td><td>{html.escape(r.error or '')}</td></tr>"
        for r in results)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>deepfakelab detection report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1200px; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 4px 8px; }}
.verdict {{ font-size: 1.3em; font-weight: bold; }} .error {{ color: #b00; }} .warn {{ color: #a60; }}
img {{ max-width: 100%; }} section {{ border-top: 1px solid #ddd; margin-top: 1.5em; }}
</style></head><body>
<h1>Deepfake detection report</h1>
<p>Each video's verdict is the mean of its frames' probabilities of "fake". Maps show which
pixels pushed the detector towards "fake" (target: the fake logit), with {html.escape(', '.join(methods))}.</p>
<p>{html.escape(f"Detector: {card.name}, trained on {card.trained_on}." if card else "")}</p>
<table><tr><th>input</th><th>verdict</th><th>frames scored</th><th>frames without a face</th><th>problem</th></tr>
{rows}</table>
{_img(files["summary"])}
{"".join(sections)}
</body></html>
"""
    files["html"] = out_dir / "report.html"
    files["html"].write_text(page, encoding="utf-8")
    return files

"""``outputs/demo/index.html``: every result of ``deepfakelab demo`` on one page.

Why one page: the demo writes a dozen files into four folders, and a newcomer should see the
deepfake play, the detector's verdicts and the GAN's samples without hunting for them. The page
is rewritten after each part, so the reenacted videos can be watched while the GAN trains.

Self-contained and offline: no scripts, no CDN, no external fonts or styles. Videos and images
are linked by relative paths (the mp4s are too big to inline), so the page works wherever the
demo folder is copied whole. Every path and text is HTML-escaped, and paths are URL-quoted.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from string import Template
from urllib.parse import quote

PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>deepfakelab demo</title>
<style>
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.4; }
video, img { max-width: 100%; }
figure { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
.pending { color: #777; } .warn { color: #a50; }
pre { background: #f4f4f4; padding: 0.5em; overflow-x: auto; }
</style></head><body>
<h1>deepfakelab demo</h1>
<p>Everything <code>deepfakelab demo</code> made, in the order it ran. Every video is synthetic and
labelled so; the files are in this folder.</p>
$sections
</body></html>
""")


def _text(value) -> str:
    return html.escape(str(value), quote=True)


def _href(path: Path, out_dir: Path) -> str:
    """A relative, URL-quoted, HTML-escaped link from the page to ``path``."""
    relative = Path(os.path.relpath(Path(path).resolve(), out_dir.resolve())).as_posix()
    return _text(quote(relative))


def _media(label: str, path, out_dir: Path) -> str:
    """A playing video, an image or a link for one result file; a note if the file is missing."""
    path = Path(path)
    if not path.is_file():
        return f'<p class="warn">{_text(label)}: missing ({_text(path.name)})</p>'
    src, caption = _href(path, out_dir), f"<figcaption>{_text(label)}</figcaption>"
    if path.suffix.lower() == ".mp4":
        return f'<figure><video controls loop muted preload="metadata" src="{src}"></video>{caption}</figure>'
    if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
        return f'<figure><img src="{src}" alt="{_text(label)}">{caption}</figure>'
    return f"<p>{_link(label, path, out_dir)}</p>"


def _link(label: str, path: Path, out_dir: Path) -> str:
    return f'<a href="{_href(path, out_dir)}">{_text(label)}</a>'


def _reenact(result: dict, out_dir: Path) -> str:
    lines = [f"<p>{_text(result.get('method', ''))}; driving: {_text(result.get('driving', ''))}.</p>"]
    lines += [_media(label, path, out_dir) for label, path in result.get("files", {}).items()]
    if str(result.get("fomm", "")).startswith("skipped"):
        lines.append(f"<p>FOMM: {_text(result['fomm'])}</p>")
    lines += [f'<p class="warn">{_text(note)}</p>' for note in result.get("notes", [])]
    return "\n".join(lines)


def _verdict_item(name: str, p_fake, out_dir: Path) -> str:
    from ..detect.report import (
        verdict,
    )  # deferred: a demo without its detect part never loads detect (+2.6 s)

    found = next(iter(sorted(out_dir.rglob(name))), None) if "/" not in name else None
    title = _link(name, found, out_dir) if found else _text(name)
    return f"<li>{title}: {_text(verdict(p_fake))}</li>"


def _detect(result: dict, out_dir: Path) -> str:
    if "skipped" in result:
        return f'<p class="warn">Skipped: {_text(result["skipped"])}</p>'
    files = result.get("files", {})
    lines = (
        [_media("full detection report (Grad-CAM maps for every video)", files["report"], out_dir)]
        if "report" in files
        else []
    )
    items = [_verdict_item(name, p, out_dir) for name, p in result.get("p_fake", {}).items()]
    lines.append("<p>Verdicts:</p><ul>" + "".join(items) + "</ul>")
    lines += [_media(label, path, out_dir) for label, path in files.items() if label != "report"]
    return "\n".join(lines)


def _gan(result: dict, out_dir: Path) -> str:
    lines = [f"<p>{_text(line)}</p>" for line in str(result.get("epochs_chosen", "")).splitlines()]
    lines.append(f"<p>{_text(result.get('epochs', '?'))} epochs on {_text(result.get('data', ''))}.</p>")
    lines += (
        [f'<p class="warn">{_text(_short_run(result["epochs"]))}</p>']
        if _short_run(result.get("epochs"))
        else []
    )
    files = dict(result.get("files", {}))
    table = files.pop("quality table", None)
    lines += [_media(label, path, out_dir) for label, path in files.items()]
    if table and Path(table).is_file():
        lines.append(
            f"<p>Quality ({_link('quality.md', Path(table), out_dir)}):</p>"
            f"<pre>{_text(Path(table).read_text(encoding='utf-8'))}</pre>"
        )
    return "\n".join(lines)


def _short_run(epochs) -> str | None:
    """Why a budgeted GAN's samples may not look like bags yet, and how to train the full run."""
    from .gan import (
        DEMO_EPOCHS,
    )  # deferred: a demo without its GAN part never loads the GAN's scoring (+1.7 s)

    if not isinstance(epochs, int) or epochs >= DEMO_EPOCHS:
        return None
    return (
        f"{epochs} of the full run's {DEMO_EPOCHS} epochs (the quality table on the website's Results page): early "
        f"samples may not look like bags yet; `deepfakelab demo --gan-epochs {DEMO_EPOCHS}` trains them all."
    )


SECTIONS = {"reenact": _reenact, "detect": _detect, "gan": _gan}


def write_index(out_dir: Path, parts: list[tuple[str, str]], summary: dict) -> Path:
    """Write ``out_dir/index.html`` for ``parts`` (``(key, title)`` in run order); return its path.

    Parts without a result in ``summary`` yet are listed as still to come.
    """
    out_dir = Path(out_dir)
    sections = []
    for key, title in parts:
        body = (
            SECTIONS[key](summary[key], out_dir)
            if key in summary
            else '<p class="pending">Not finished yet: run the demo to the end, then reload this page.</p>'
        )
        seconds = f" ({summary[key]['seconds']} s)" if key in summary and "seconds" in summary[key] else ""
        sections.append(f"<h2>{_text(title)}{_text(seconds)}</h2>\n{body}")
    page = out_dir / "index.html"
    page.write_text(PAGE.substitute(sections="\n".join(sections)), encoding="utf-8")
    return page

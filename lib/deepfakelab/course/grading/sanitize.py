"""What a student wrote, made safe to show an instructor: sanitised notebooks and a CSP for feedback.

The graded notebook is rendered as HTML by nbgrader's formgrader (on the instructor's Jupyter
server, with the instructor's session) and by ``nbgrader generate_feedback``. Whatever HTML a
student put in it -- a ``<script>`` in a written answer, an ``onerror`` handler, an HTML, SVG or
JavaScript output of a code cell -- would run there with the instructor's rights: write files
through ``/api/contents`` (a new hidden check), open a terminal. So the worker passes every
graded notebook through :func:`sanitize_notebook` before it is stored, and the feedback pages
get a Content-Security-Policy (:func:`add_feedback_csp`); formgrader's pages get theirs from
:mod:`..formgrader_csp`.

Markdown is kept as the student wrote it whenever it cannot carry HTML: no ``<`` that could open
a tag and only plain link targets in what nbconvert renders (the renderer formgrader and the
feedback use), which is every ordinary answer with prose, maths (``$a < b$``) and code spans.
Anything else is replaced by that rendering cleaned with nh3 (html5ever's parser, an allowlist of
tags, attributes and URL schemes), written on one line inside a ``<div>`` so that no markdown
parser reads it again: the instructor sees what the browser would have shown, minus the active
parts. Outputs follow an allowlist of mime types; everything else is dropped with a note.
"""

from __future__ import annotations

import base64
import binascii
import copy
import html
import re
from pathlib import Path

import nh3
import nbformat
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

#: Tags a rendered answer may keep: nh3's (ammonia's) defaults, which hold no script, style,
#: iframe, object, embed, form, input, svg or math element.
ALLOWED_TAGS = set(nh3.ALLOWED_TAGS)
#: nh3's attributes plus ``class`` (nbconvert's code highlighting), never ``style``, ``id`` or ``on*``.
ALLOWED_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()} | {
    "*": {"class", "title", "lang"}
}
#: Link and image URL schemes; ``data:`` only for raster images (:func:`_safe_url`).
URL_SCHEMES = {"http", "https", "mailto", "attachment", "data"}
#: Output mime types shown in a graded notebook; everything else (HTML is cleaned, not dropped)
#: can run script (SVG, JavaScript, widgets, LaTeX pasted raw by some templates) or is unknown.
#: ``application/json`` is kept: it is data, and JupyterLab shows it in a tree, not as HTML.
KEPT_MIME = {"text/plain", "image/png", "image/jpeg", "image/gif", "application/json"}
CLEANED_MIME = {"text/html", "text/markdown"}
RASTER_MIME = {"image/png", "image/jpeg", "image/gif"}
#: Feedback pages embed their images and styles; they need no script at all (maths stays as TeX).
FEEDBACK_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)

_TAG_START = re.compile(r"<[A-Za-z/!?]")  # what begins raw HTML (or an autolink) in markdown
_RENDERED_URL = re.compile(r"<(\w+)[^>]*?\s(href|src)=\"([^\"]*)\"")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_RASTER_DATA = re.compile(r"^data:image/(?:png|jpeg|jpg|gif);base64,[A-Za-z0-9+/=\s]*$", re.I)
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
_HEAD = re.compile(r"<head\b[^>]*>", re.I)


def _safe_url(url: str, element: str = "img", attribute: str = "src") -> bool:
    """Whether a link or image target is harmless: no scheme, http(s), mailto, attachment, raster data image."""
    plain = re.sub(r"[\x00-\x20\\]", "", html.unescape(url))  # browsers ignore these inside a scheme
    match = _SCHEME.match(plain)
    if match is None:
        return True
    scheme = match.group(1).lower()
    if scheme == "data":
        return element == "img" and attribute == "src" and bool(_RASTER_DATA.match(url.strip()))
    return scheme in URL_SCHEMES


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src", "cite") and not _safe_url(value, element, attribute):
        return None
    return value


def clean_html(text: str) -> str:
    """``text`` (HTML) with only the allowlisted tags, attributes and URLs left."""
    return nh3.clean(
        text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_attribute_filter,
        strip_comments=True,
    )


class _AnyAttachment(dict):
    """Every ``attachment:`` name resolves (to an empty PNG): rendering only looks for active HTML."""

    def __contains__(self, name) -> bool:
        return True

    def __getitem__(self, name) -> dict:
        return {"image/png": ""}


def _render(text: str) -> str:
    """``text`` as nbconvert renders a markdown cell (what formgrader and the feedback show)."""
    return MarkdownWithMath(renderer=IPythonRenderer(escape=False, attachments=_AnyAttachment())).render(text)


def _is_plain_markdown(text: str, rendered: str) -> bool:
    """No raw HTML possible (no tag-like ``<``) and every link or image target is harmless."""
    if _TAG_START.search(text):
        return False
    return all(_safe_url(url, tag, attribute) for tag, attribute, url in _RENDERED_URL.findall(rendered))


def sanitize_markdown(text) -> str:
    """A student's markdown, kept verbatim when it holds no HTML, else its cleaned rendering (module doc)."""
    if isinstance(text, list):
        text = "".join(text)
    if not isinstance(text, str):
        raise TypeError(f"markdown must be text, not {type(text).__name__}")
    if text.startswith("<div>") and "\n" not in text and _one_line(clean_html(text)) == text:
        return text  # already this function's output: cleaning it again would only nest another <div>
    rendered = _render(text)
    if _is_plain_markdown(text, rendered):
        return text
    # One line inside a <div>: an HTML block that markdown passes through untouched to its end.
    return _one_line(f"<div>{clean_html(rendered).strip()}</div>")


def _one_line(text: str) -> str:
    return text.strip().replace("\r", "").replace("\n", "&#10;")


def _join(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _clean_attachments(cell) -> None:
    """Keep raster image attachments (valid base64) only; an SVG attachment can hold script."""
    attachments = cell.get("attachments")
    if not isinstance(attachments, dict):
        cell.pop("attachments", None)
        return
    kept = {}
    for name, bundle in attachments.items():
        if not isinstance(bundle, dict):
            continue
        images = {
            mime: _join(data)
            for mime, data in bundle.items()
            if mime in RASTER_MIME and _is_base64(_join(data))
        }
        if images:
            kept[str(name)] = images
    cell["attachments"] = kept
    if not kept:
        del cell["attachments"]


def _is_base64(data: str) -> bool:
    if not _BASE64.match(data):
        return False
    try:
        base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _clean_metadata(metadata, kept: dict) -> dict:
    """Only numeric width and height of the kept images: templates write these into ``<img>`` attributes."""
    clean = {}
    for mime in kept:
        entry = metadata.get(mime) if isinstance(metadata, dict) else None
        if mime in RASTER_MIME and isinstance(entry, dict):
            sizes = {
                k: v
                for k, v in entry.items()
                if k in ("width", "height") and isinstance(v, (int, float)) and not isinstance(v, bool)
            }
            if sizes:
                clean[mime] = sizes
    return clean


def sanitize_output(output):
    """One code-cell output with only allowlisted, cleaned mime types (a note when nothing is left)."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return output  # stream and error outputs are text, escaped by every renderer
    data = output.get("data") or {}
    kept, dropped = {}, []
    for mime, value in data.items():
        if mime in CLEANED_MIME:
            kept[mime] = clean_html(_join(value)) if mime == "text/html" else sanitize_markdown(_join(value))
        elif mime in RASTER_MIME and _is_base64(_join(value)):
            kept[mime] = _join(value)
        elif mime in KEPT_MIME and mime not in RASTER_MIME:
            kept[mime] = value
        else:
            dropped.append(mime)
    if dropped and not kept:
        kept["text/plain"] = f"[output not shown in the graded notebook: {', '.join(sorted(dropped))}]"
    output["data"] = kept
    output["metadata"] = _clean_metadata(output.get("metadata") or {}, kept)
    return output


def sanitize_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` safe to render for the instructor: markdown and raw cells, attachments and outputs cleaned."""
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TypeError("sanitize_notebook expects a notebook (a mapping with a list of 'cells')")
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        kind = cell.get("cell_type")
        if kind == "markdown":
            cell["source"] = sanitize_markdown(_join(cell.get("source", "")))
        elif kind == "raw":  # nbconvert and JupyterLab may render a raw cell as HTML
            cell["source"] = clean_html(_join(cell.get("source", "")))
        elif kind == "code":
            cell["outputs"] = [sanitize_output(o) for o in cell.get("outputs", []) if isinstance(o, dict)]
        if kind in ("markdown", "raw"):
            _clean_attachments(cell)
    return nb


def add_feedback_csp(folder: str | Path) -> list[Path]:
    """Put :data:`FEEDBACK_CSP` as a ``<meta>`` first in the ``<head>`` of every HTML page under ``folder``.

    nbgrader's feedback is a static page a student (or the instructor) opens from disk or from
    the Jupyter server; the policy stops any script that sanitising missed. Returns the pages changed.
    """
    meta = f'<meta http-equiv="Content-Security-Policy" content="{FEEDBACK_CSP}">'
    changed = []
    for page in sorted(Path(folder).rglob("*.html")) if Path(folder).is_dir() else []:
        text = page.read_text(encoding="utf-8", errors="replace")
        if meta in text:
            continue
        head = _HEAD.search(text)
        text = text[: head.end()] + meta + text[head.end() :] if head else f"<head>{meta}</head>{text}"
        page.write_text(text, encoding="utf-8")
        changed.append(page)
    return changed

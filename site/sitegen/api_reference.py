"""The library reference pages: one mkdocstrings block per public module of each part.

The kit's parts grow while the course runs (a new module, a renamed one). Rather than listing
modules by hand on each page, which breaks a strict build the day a module moves, this lists
the part's Python files and writes one ``::: deepfakelab.<part>.<module>`` block for each.
mkdocstrings then reads their docstrings statically (nothing is imported or run). A part with
no modules yet gets a short note instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .snippets import write_snippet

LIB = Path(__file__).resolve().parents[2] / "lib" / "deepfakelab"

#: The parts with a reference page each (``reference/<part>.md`` includes ``api_<part>.md``).
PARTS = ["heads", "media", "faces", "reenact", "fakes", "detect", "gan", "labs", "course", "demos"]

#: Modules that are entry points, not library API: the CLI page covers them.
NOT_API = {"cli", "__main__"}


def _docstring(path: Path) -> str | None:
    try:
        return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except (SyntaxError, UnicodeDecodeError):
        return None


def public_modules(part: str) -> list[str]:
    """Dotted names of the part's public modules (sub-packages included), sorted."""
    root = LIB / part
    names = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            if not parts:
                continue  # the part's own __init__ is rendered as the page's introduction
        if any(p.startswith("_") or p in NOT_API for p in parts):
            continue
        if any(seg in {"tests", "weights"} for seg in parts):
            continue
        names.append(".".join(["deepfakelab", part, *parts]))
    return names


def write_api_reference() -> dict[str, list[str]]:
    """Write ``generated/api_<part>.md`` for every part; return the modules documented."""
    documented = {}
    for part in PARTS:
        package = f"deepfakelab.{part}"
        init = LIB / part / "__init__.py"
        modules = public_modules(part) if (LIB / part).is_dir() else []
        blocks = []
        if init.exists() and _docstring(init):
            blocks.append(
                f"::: {package}\n    options:\n      members: false\n      show_root_heading: false\n"
            )
        blocks += [f"::: {name}\n" for name in modules]
        if not blocks:
            blocks = [
                f'!!! note "Not in this version yet"\n    `{package}` has no modules in this '
                "version of the kit yet; this page fills in by itself when they land.\n"
            ]
        write_snippet(f"api_{part}", "\n".join(blocks))
        documented[part] = modules
    return documented

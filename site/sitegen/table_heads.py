"""The synthetic heads' tables of the Results page, from ``site/data/heads.json``.

``bench/heads.py --json`` writes both parts in one run: how often MTCNN finds the heads (per
accessory, and accessory-free by skin tone) and how long a frame takes to render beside decoding
the same frame from PNG. A part the bench skipped (``--skip-mtcnn``, ``--skip-timing``) is absent
from the file and says so on the page. The targets come from the same file.
"""

from __future__ import annotations

from .results import markdown_table, number

#: How the page names the accessories of ``deepfakelab.heads`` (a kind not listed: its key, spaced).
ACCESSORIES = {
    "none": "none",
    "clear": "clear glasses",
    "dark": "dark glasses",
    "mask": "surgical mask",
}


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.0f} %"


def _accessory(kind: str) -> str:
    return ACCESSORIES.get(kind, kind.replace("_", " "))


def heads_mtcnn(data: dict) -> str:
    """``bench/heads.py``: the share of frames in which MTCNN finds a synthetic head."""
    mtcnn = data.get("mtcnn")
    if not mtcnn:
        return "MTCNN's detection rate was not measured in this run (`--skip-mtcnn`)."
    accessories, target = mtcnn["accessories"], mtcnn["target_accessory_free"]
    sizes = list(accessories["none"])
    pose = ", ".join(f"{axis} ±{limit:g}" for axis, limit in mtcnn["pose_range_deg"].items())
    rows = [
        [_accessory(kind), *(_percent(rates[size]) for size in sizes)] for kind, rates in accessories.items()
    ]
    tones = "; ".join(
        f"{group} "
        + ", ".join(f"{_percent(part['rates'][size])} at {size} px" for size in sizes)
        + f" (n={part['n']})"
        if part["n"]
        else f"{group}: no identity drawn"
        for group, part in mtcnn["skin_tone"].items()
    )
    bare = accessories["none"]
    verdicts = ", ".join(
        f"{_percent(bare[size])} at {size} px ({'met' if bare[size] >= target else 'not met'})"
        for size in sizes
    )
    return "\n".join(
        [
            f"The share of frames in which MTCNN (facenet-pytorch's shipped weights) finds a face: the same "
            f"{mtcnn['frames']} identities and poses wear each accessory in turn; random poses up to {pose} "
            "degrees.",
            "",
            markdown_table(["accessory", *(f"{size} px" for size in sizes)], rows),
            "",
            f"- **Accessory-free, by skin tone**: {tones}.",
            f"- **Against the target** (issue 3: at least {_percent(target)} of accessory-free frames): "
            f"{verdicts}.",
        ]
    )


def heads_render(data: dict) -> str:
    """``bench/heads.py``: CPU milliseconds to render one frame on one thread, against decoding it."""
    render = data.get("render")
    if not render:
        return "The render time was not measured in this run (`--skip-timing`)."
    sizes = render["sizes"]
    rows = [
        ["render, ms", *(number(part["render_ms"], 2) for part in sizes.values())],
        ["PNG decode of the same frame, ms", *(number(part["png_decode_ms"], 2) for part in sizes.values())],
    ]
    verdicts = ", ".join(
        f"{number(part['render_ms'], 2)} ms at {size} px (target under {part['target_ms']:g} ms: "
        f"{'met' if part['render_ms'] < part['target_ms'] else 'not met'})"
        for size, part in sizes.items()
        if part.get("target_ms") is not None
    )
    return "\n".join(
        [
            f"CPU time per frame on one thread, the median of {render['passes']} passes over "
            f"{render['frames']} random identities per size (half with accessories) in random poses; the "
            "baseline is what a file-based dataset pays instead, decoding the same frame from PNG with "
            "OpenCV.",
            "",
            markdown_table(["", *(f"{size} px" for size in sizes)], rows),
            "",
            f"- **Against the targets** (issue 3): {verdicts or 'no size with a target was timed'}.",
        ]
    )


def heads(data: dict) -> str:
    """Both of ``bench/heads.py``'s tables, detection first, as the page shows them in one section."""
    return (
        "**MTCNN on synthetic heads**\n\n"
        + heads_mtcnn(data)
        + "\n\n**Render time**\n\n"
        + heads_render(data)
    )

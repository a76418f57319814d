"""The reenactment tables of the Results page, from ``site/data/reenact_*.json``.

Each renderer reads one bench's file and says what its numbers mean against the issue's targets,
computed from the same file (a ratio on the page is the ratio of the numbers above it).
"""

from __future__ import annotations

from .results import markdown_table, number

#: How the page names each method of ``reenact-eval``.
METHODS = {
    "zero-motion": "zero motion (output = source)",
    "blurred-truth": "`blurred-truth`: the true frames blurred (a yardstick, not a method)",
    "landmark-warp": "landmark warp (MTCNN 5 points)",
    "mesh-warp": "**mesh warp** (the default)",
    "fomm": "FOMM, the shipped small model (synthetic heads, 64 px)",
    "fomm-self": "small FOMM, each frame driving itself (`fomm-self`)",
}


def _share(videos: dict, test) -> str:
    """``"18 of 19"``: on how many videos ``test(methods)`` holds."""
    return f"{sum(bool(test(methods)) for methods in videos.values())} of {len(videos)}"


def reenact_real(data: dict) -> str:
    """``reenact-eval --real-videos``: the reconstruction protocol on the shared real videos."""
    methods, videos = data["methods"], data["videos"]
    rows = [
        [
            METHODS.get(name, name),
            number(row["l1"], 4),
            number(row["akd_px"], 2),
            number(row.get("aed"), 3),
            number(row.get("mouth_l1"), 4),
            number(row.get("seam_l1"), 4),
        ]
        for name, row in methods.items()
    ]
    lines = [
        f"{len(videos)} real videos, the first {data.get('frames', '?')} frames of each. Columns: L1 in the face "
        "oval (in [0, 1]); AKD, the 468 face-mesh points read off the output against the true frame's (px at "
        "256); AED, dlib's identity distance to the source photo (`-`: the `identity` extra was not "
        "installed); mouth L1, inside the true frame's open inner lips (videos whose mouth opens); seam L1, "
        "in the band from 0.85 to 1.35 times the face oval, where a warp that tears shows it.",
        "",
        markdown_table(["method", "L1, face", "AKD, px", "AED", "mouth L1", "seam L1"], rows),
        "",
    ]
    mesh, zero, five = methods.get("mesh-warp"), methods.get("zero-motion"), methods.get("landmark-warp")
    if mesh and zero and five:
        lines.append(
            f"- **Against the targets** (issue 29): the mesh warp's AKD is {mesh['akd_px'] / zero['akd_px']:.2f}x "
            f"zero motion's on average (target at most 0.5x) and at most 0.5x on "
            f"{_share(videos, lambda m: m['mesh-warp']['akd_px'] <= 0.5 * m['zero-motion']['akd_px'])} videos; "
            f"its face L1 is below zero motion's on "
            f"{_share(videos, lambda m: m['mesh-warp']['l1'] < m['zero-motion']['l1'])}; its seam L1 is "
            f"{mesh['seam_l1'] / five['seam_l1']:.2f}x the 5-point warp's (target at most 0.5x)."
        )
    ranges = data.get("identity_ranges") or {}
    if ranges:
        lines.append(
            "- **What an identity distance means here** (the same command, on pairs of true frames): "
            + "; ".join(
                f"{kind} {spread['min']:.3f}-{spread['max']:.3f} (median {spread['median']:.3f}, "
                f"{spread['pairs']} pairs)"
                for kind, spread in ranges.items()
            )
            + ". dlib's same-person threshold is 0.6."
        )
    return "\n".join(lines)

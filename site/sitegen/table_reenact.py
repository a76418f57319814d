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
    """``"18 of 19 (not on d13)"``: on how many videos ``test(methods)`` holds, naming the few where it
    does not (file names of the shared clips, never their faces)."""
    failed = [name.rsplit(".", 1)[0] for name, methods in videos.items() if not test(methods)]
    text = f"{len(videos) - len(failed)} of {len(videos)}"
    return text + (f" (not on {', '.join(failed)})" if 0 < len(failed) <= 3 else "")


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
        f"{len(videos)} real videos, the first {data.get('frames', '?')} frames of each. "
        "Columns: L1 in the face oval (in [0, 1]); AKD, the 468 face-mesh points read off the output "
        "against the true frame's (px at 256); AED, dlib's identity distance to the source photo "
        "(`-`: the `identity` extra was not installed); mouth L1, inside the true frame's open inner lips (videos whose mouth opens); seam L1, "
        "in the band from 0.85 to 1.35 times the face oval, where a warp that tears shows it.",
        "",
        markdown_table(["method", "L1, face", "AKD, px", "AED", "mouth L1", "seam L1"], rows),
        "",
    ]
    mesh, zero, five = methods.get("mesh-warp"), methods.get("zero-motion"), methods.get("landmark-warp")
    if mesh and zero and five:
        lines.append(
            "- **Against the targets** (issue 29): the mesh warp's AKD is "
            f"{mesh['akd_px'] / zero['akd_px']:.2f}x zero motion's on average (target at most 0.5x) "
            "and at most 0.5x on "
            f"{_share(videos, lambda m: m['mesh-warp']['akd_px'] <= 0.5 * m['zero-motion']['akd_px'])}; "
            f"its face L1 is below zero motion's on "
            f"{_share(videos, lambda m: m['mesh-warp']['l1'] < m['zero-motion']['l1'])}; its seam L1 is "
            f"{mesh['seam_l1'] / five['seam_l1']:.2f}x the 5-point warp's (target at most 0.5x)."
        )
    ranges = data.get("identity_ranges") or {}
    if ranges:
        lines.append(
            "- **What an identity distance means here** (the same command, on pairs of true frames): "
            + "; ".join(
                (
                    f"{kind} {spread['min']:.3f}-{spread['max']:.3f} (median {spread['median']:.3f}, "
                    f"{spread['pairs']} pairs)"
                    if spread["pairs"] > 1
                    else f"{kind} {spread['min']:.3f} (1 pair)"
                )
                for kind, spread in ranges.items()
            )
            + ". dlib's same-person threshold is 0.6."
        )
    return "\n".join(lines)


def mesh_warp_turns(data: dict) -> str:
    """``bench/mesh_warp_turns.py``: synthetic heads turning, where the true frames are known."""
    scores, yaws = data["methods"], data["yaws"]
    mesh, five, zero = scores["mesh-warp"], scores["landmark-warp"], scores["zero-motion"]

    def per_yaw(method: dict, key: str, yaw: float) -> float:
        values = method[key]  # JSON keys are strings
        return values.get(str(float(yaw)), values.get(str(yaw)))

    rows = [
        [
            f"{yaw:+g}",
            *(
                number(per_yaw(scores[m], "per_yaw", yaw), 4)
                for m in ("zero-motion", "landmark-warp", "mesh-warp")
            ),
            per_yaw(mesh, "flipped_per_yaw", yaw),
            per_yaw(mesh, "uncovered_per_yaw", yaw),
        ]
        for yaw in yaws
    ]
    rows.append(
        [
            "**all**",
            *(number(scores[m]["seam_l1"], 4) for m in ("zero-motion", "landmark-warp", "mesh-warp")),
            mesh["flipped_max"],
            mesh["uncovered_max"],
        ]
    )
    ratio = mesh["seam_l1"] / five["seam_l1"]
    return "\n".join(
        [
            f"{len(data['identities'])} synthetic heads at {data['size']} px: the frontal head is the "
            "photo, the same head turned is the truth and drives it. Seam L1 is measured in the band "
            "around the true face oval; flipped and uncovered count the mesh warp's folded support "
            "triangles and the pixels no triangle covers (most in one frame).",
            "",
            markdown_table(
                ["yaw, degrees", "zero motion", "landmark warp", "mesh warp", "flipped", "uncovered"], rows
            ),
            "",
            "- **Against the targets** (issue 29): flipped triangles up to 35 degrees: "
            f"{mesh['flipped_total']} in all "
            f"(target 0, {'met' if mesh['flipped_total'] == 0 else 'not met'}); "
            f"seam L1 {ratio:.3f}x the landmark warp's (target at most 0.5x, "
            f"{'met' if ratio <= 0.5 else 'not met'}). Outside the face "
            f"(between the oval and 1.35 times it): mesh warp {mesh['outside_l1']:.4f}, landmark warp "
            f"{five['outside_l1']:.4f}, zero motion {zero['outside_l1']:.4f}.",
        ]
    )


def reenact_speed(data: dict) -> str:
    """``bench/reenact_speed.py``: the whole ``deepfakelab reenact`` command, both warps, one run."""
    methods, target = data["methods"], data["target_fps"]
    names = {"landmark-warp": "landmark warp (MTCNN on every frame)", "mesh-warp": "**mesh warp**"}
    rows = [
        [
            names.get(name, name),
            number(row["fps"], 1),
            number(row["wall_s"], 1),
            number(row["frames_per_cpu_s"], 1),
            "met" if row["fps"] >= target else "not met",
        ]
        for name, row in methods.items()
    ]
    return "\n".join(
        [
            f"`{data['photo']}` driven by the first {data['frames']} frames of `{data['video']}` at "
            f"{data['size']} px, the whole `reenact_files` each time (photo, face, decoding, tracking, warp, "
            f"labelled mp4 with audio, strip; process start and weight loading not counted), best of "
            f"{data['repeats']}.",
            "",
            markdown_table(
                ["method", "frames/s", "wall s", "frames per CPU s", f"target {target:g} frames/s"], rows
            ),
            "",
            f"The mesh warp runs at {data['mesh_over_landmark']:.2f}x the 5-point warp's frame rate "
            "in the same run.",
        ]
    )


def face_mesh(data: dict) -> str:
    """``bench/face_mesh.py``: the face mesh network and tracking, against MTCNN on every frame."""
    width, height = data["frame_size"]
    rows = [
        [
            "the mesh network on a 192 px crop",
            number(data["network_ms"], 2),
            number(1000 / data["network_ms"], 0),
        ],
        [
            "`FaceMesh.track`: crop, network, ROI, smoothing",
            number(data["track_ms"], 2),
            number(1000 / data["track_ms"], 0),
        ],
        [
            "baseline: MTCNN on every frame",
            number(data["mtcnn_every_frame_ms"], 2),
            number(1000 / data["mtcnn_every_frame_ms"], 0),
        ],
    ]
    return "\n".join(
        [
            f"{data['frames']} frames of `{data['video']}` ({width}x{height}).",
            "",
            markdown_table(["step", "ms per frame", "frames/s"], rows),
            "",
            f"Tracking is {data['track_speedup']:.1f}x faster than finding the face afresh in every frame.",
        ]
    )

"""The detection tables of the Results page on synthetic heads, from ``site/data/detect_synthetic.json``.

``bench/detect.py --json`` writes one file for two tables: the test rows of two kitnet training
runs (each run's own evaluation, written when it was trained: the file gives the date) and the
frame rate of crop + score + Grad-CAM beside the naive pipeline, both pipelines timed in the same
run. Each renderer compares its numbers with issue 5's targets, which the bench writes into the
same file, so "met" on the page is the comparison of the numbers above it.
"""

from __future__ import annotations

from .results import markdown_table, number

#: How the page names the face set's manipulations (a kind not listed is shown by its key).
MANIPULATIONS = {
    "all": "all manipulations",
    "face_swap": "face swap",
    "fomm": "FOMM (the kit's small model)",
    "landmark_warp": "landmark warp",
    "mesh_warp": "mesh warp",
    "self_blend": "self-blending",
}
#: How the page names the CAM methods of ``detect.explain``.
CAM_NAMES = {"gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++", "layercam": "LayerCAM", "eigencam": "EigenCAM"}


def _against(value: float, target: float, digits: int = 3, unit: str = "") -> str:
    """``"0.996 (target at least 0.99: met)"``: a number beside the target it is held to."""
    verdict = "met" if value >= target else "not met"
    shown = f"{target:.2f}" if target < 1 else f"{target:g}"
    return f"{value:.{digits}f}{unit} (target at least {shown}{unit}: {verdict})"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _row(name: str, test: dict, jpeg: dict | None) -> list[str]:
    return [
        name,
        number(test["frame_auc"], 3),
        number(test["video_auc"], 3),
        number(test["eer"], 3),
        number(test["ap"], 3),
        number(jpeg["video_auc"] if jpeg else None, 3),
        str(test["videos"]),
    ]


def _trained(run: dict) -> str:
    """``"runs/detector5-mw4 (kitnet, 80 epochs, change-mask loss weight 4; evaluated 2026-11-26)"``;
    for shipped weights scored by the bench, their best epoch (the loss weight is not stored)."""
    if run.get("mask_weight") is None:
        weights, _, data = run["run"].partition(", scored on the test split of ")
        return (
            f"`{weights}` ({run['arch']}, kept at epoch {run['epochs']}), scored on the test split of "
            f"`{data}` on {run['evaluated']}"
        )
    epochs = _plural(run["epochs"], "epoch", "epochs")
    return (
        f"`{run['run']}` ({run['arch']}, {epochs}, change-mask loss weight {run['mask_weight']:g}; "
        f"evaluated {run['evaluated']})"
    )


def _explain_table(explain: dict) -> str:
    """One row per CAM method: where its maps point, against the mask's share and a random model."""
    header = [
        "map",
        "pointing game",
        "energy in mask",
        "mask's share of the crop",
        "random model's pointing game",
        "rank correlation with the random model's maps",
    ]
    keys = ("pointing_game", "energy_in_mask", "mask_area_share", "random_model_pointing_game")
    rows = [
        [CAM_NAMES.get(method, method), *(number(e[key], 2) for key in keys)]
        + [number(e["rank_corr_with_random_model"], 2)]
        for method, e in explain.items()
    ]
    return markdown_table(header, rows)


def detect_synthetic(data: dict) -> str:
    """``bench/detect.py``: kitnet on the synthetic heads' test split, each manipulation against the
    reals, the held-out run's unseen manipulation, and how well its Grad-CAM maps point."""
    runs, targets = data["runs"], data["targets"]
    full, held = runs.get("in_distribution", {}), runs.get("held_out", {})
    if "test" not in full:
        return (
            f"The in-distribution run was not found when the bench ran (`{full.get('missing', '?')}`): "
            "train it with `python bench/detect.py --train` or the weights README's commands."
        )
    test, jpeg = full["test"], full["test_jpeg50"]
    rows = [_row(MANIPULATIONS.get(kind, kind), m, jpeg.get(kind)) for kind, m in test.items()]
    kind = held.get("hold_out") if "test" in held else None
    if kind:
        name = MANIPULATIONS.get(kind, kind)
        rows.append(_row(f"{name}, held out of training", held["test"][kind], held["test_jpeg50"].get(kind)))
    identities = _plural(full["test_identities"], "synthetic identity", "synthetic identities")
    twin = f", and its twin trained without {name}, {_trained(held)}, for the last row" if kind else ""
    lines = [
        f"The test split: {identities} the detectors never saw, {test['all']['videos']} videos (video "
        f"score = mean frame probability). The rows are the detector trained on every manipulation, "
        f"{_trained(full)}{twin}. "
        + (
            "The table is each run's own evaluation, which the bench reads from its `evaluation.json`."
            if full.get("mask_weight") is not None
            else "The bench scored the weights on the face set's test split when it ran."
        ),
        "",
        markdown_table(
            ["test set (vs reals)", "frame AUC", "video AUC", "EER", "AP", "video AUC, JPEG 50", "videos"],
            rows,
        ),
        "",
    ]
    explain = full.get("explain") or {}
    if explain:
        lines += [
            "How the maps point (test fakes with a change mask): the pointing game asks whether a map's "
            "maximum is inside the mask; the energy is the map's share inside it, against the mask's share "
            "of the crop; the same maps of a randomly re-initialised copy of the model should point nowhere "
            "and correlate little with the trained ones.",
            "",
            _explain_table(explain),
            "",
        ]
    checks = [
        f"video AUC in distribution {_against(test['all']['video_auc'], targets['video_auc'])}",
        f"at JPEG 50 {_against(jpeg['all']['video_auc'], targets['video_auc_jpeg50'])}",
    ]
    if kind:
        unseen = held["test"][kind]["video_auc"]
        checks.append(f"on the held-out manipulation {_against(unseen, targets['held_out_video_auc'])}")
    else:
        checks.append(
            "the held-out manipulation not measured (its run, trained without it, was not found: "
            "`python bench/detect.py --train` makes it, about an hour)"
        )
    if "gradcam" in explain:
        pointing = explain["gradcam"]["pointing_game"]
        checks.append(f"Grad-CAM's pointing game {_against(pointing, targets['pointing_game'], 2)}")
    lines.append("- **Against the targets** (issue 5): " + "; ".join(checks) + ".")
    return "\n".join(lines)


def detect_throughput(data: dict) -> str:
    """``bench/detect.py``: frames per second of the kit's crop + score + Grad-CAM, and of the naive
    pipeline (MTCNN on the full frame, one frame per pass) timed in the same run."""
    speed, target = data["throughput"], data["targets"]["frames_per_s"]
    if "skipped" in speed:
        return f"The throughput was not measured: {speed['skipped']}."
    kit, base = speed["kit_fps"], speed["baseline_fps"]
    width, height = speed["frame_size"]
    return "\n".join(
        [
            f"The first {speed['frames']} frames of `{speed['video']}` ({width}x{height}, a face found in "
            f"{speed['faces']}), {speed['threads']} torch threads, {speed['detector']}. The kit's pipeline "
            f"shrinks each frame to {speed['detect_side']} px for MTCNN and searches {speed['batch']} frames "
            "in one pass; the naive one runs MTCNN on the full-size frame, one frame per pass. Each is timed "
            "on a second pass, after a warm-up.",
            "",
            markdown_table(
                ["pipeline (face crop + score + Grad-CAM)", "frames/s"],
                [
                    ["naive: MTCNN on the full frame, one frame a pass", number(base, 1)],
                    ["**the kit's**", number(kit, 1)],
                ],
            ),
            "",
            f"- **Against the target** (issue 5): {_against(kit, target, 1, ' frames/s')}, "
            f"{kit / base:.2f}x the naive pipeline in the same run.",
        ]
    )

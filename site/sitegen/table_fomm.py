"""The First Order Motion Model's tables of the Results page: its speed on each inference engine
(``bench/reenact.py --json``) and its scores on synthetic heads (``deepfakelab reenact-eval --json``).

Each renderer reads one file and says what its numbers mean against the issue's targets, computed
from the same file: a ratio on the page is the ratio of the seconds above it, and "met" or "not
met" follows from the numbers, so a new measurement can flip it without anyone editing the page.
"""

from __future__ import annotations

from .results import markdown_table, number

LOOP = "per-frame"


def _path_name(name: str, data: dict) -> str:
    """How the page names a path of ``bench/reenact.py``: the loop, or ``animate(engine=...)``."""
    if name == LOOP:
        return "per-frame loop (the published demo's way)"
    return f'`engine="{name}"`' + (" (the default)" if name == data.get("default_engine") else "")


def _ratio(value: float, bold: bool = False) -> str:
    text = f"{value:.2f}x"
    return f"**{text}**" if bold else text


def _verdict(wall_met: bool, cpu_met: bool) -> str:
    """One verdict for the two clocks: wall time is what a user waits, CPU time the work done."""
    if wall_met and cpu_met:
        return "met"
    if wall_met:
        return "met in wall time, not in CPU time"
    if cpu_met:
        return "met in CPU time, not in wall time"
    return "not met"


def fomm_engines(data: dict) -> str:
    """``bench/reenact.py --json``: the published per-frame loop against ``animate()`` on each engine.

    Ratios are computed here from the best run's seconds per frame, not copied from the file, so
    they are the ratios of the figures in the same table. The speed target is the file's
    ``target_ratio`` (the bench's), judged on the fastest engine by wall time, as the bench judges
    it; agreement follows the bench's rule: within ``tolerance`` of the loop, or no further from
    the float64 loop than the tolerance or twice the float32 loop (float32 rounding, which a random
    network's small-variance BatchNorm channels amplify).
    """
    paths = data["paths"]
    loop = paths[LOOP]
    engines = [name for name in paths if name != LOOP]
    wall_ratio = {name: loop["wall_s_per_frame"] / row["wall_s_per_frame"] for name, row in paths.items()}
    cpu_ratio = {name: loop["cpu_s_per_frame"] / row["cpu_s_per_frame"] for name, row in paths.items()}
    fastest = max(engines, key=wall_ratio.get) if engines else None
    exact = data.get("exact_frames")
    float64 = all("max_difference_from_float64_loop" in row for row in paths.values())
    header = [
        "path",
        "frames/s",
        "CPU s/frame",
        "vs loop, wall",
        "vs loop, CPU",
        "max \\|difference\\| from the loop",
    ]
    if float64:
        header.append(f"from the float64 loop ({exact} frames)")
    rows = []
    for name, row in paths.items():
        cells = [
            _path_name(name, data),
            number(row["frames_per_s"], 2),
            number(row["cpu_s_per_frame"], 3),
            _ratio(wall_ratio[name], bold=name == fastest),
            _ratio(cpu_ratio[name]),
            "(the reference)" if name == LOOP else f"{row['max_difference_from_loop']:.1e}",
        ]
        if float64:
            cells.append(f"{row['max_difference_from_float64_loop']:.1e}")
        rows.append(cells)
    runs = "one run" if data["repeats"] == 1 else f"the best of {data['repeats']} runs"
    threads = f"{data['threads']} torch thread" + ("" if data["threads"] == 1 else "s")
    lines = [
        f"`{data['config']}` at {data['size']} px: {data['frames']} driving frames per timed run, the kit's "
        f"batch {data['batch_size']}, {threads}, {runs} "
        f"of each path, the paths taking turns in one process. Weights: {data['weights']} (a freshly "
        "initialised FOMM paints a flat grey, on which any two computations agree; the output's standard "
        f"deviation here is {data['output_std']:.3f}). Wall time is what a user waits; CPU seconds (all "
        "threads of the process) are the work done, and move less when other jobs share the machine.",
        "",
        markdown_table(header, rows),
        "",
    ]
    target = data["target_ratio"]
    if fastest:
        verdict = _verdict(wall_ratio[fastest] >= target, cpu_ratio[fastest] >= target)
        lines.append(
            f"- **Against the target** (at least {target:g}x the loop's speed): the fastest path, "
            f"{_path_name(fastest, data)}, is {_ratio(wall_ratio[fastest])} the loop's speed in wall time "
            f"and {_ratio(cpu_ratio[fastest])} in CPU time: **{verdict}**."
        )
        lines.append("- " + _agreement(data, engines))
    macs = data.get("macs_per_frame")
    if macs:
        loop_g, kit_g = macs["loop"] / 1e9, macs["kit"] / 1e9
        lines.append(
            f"- **Multiply-adds per frame** (torch's `FlopCounterMode`): "
            f"the loop {loop_g:.1f} G, the kit {kit_g:.1f} G ({loop_g / kit_g:.2f}x fewer); "
            f"{macs['bottleneck'] / 1e9:.1f} G of each are the generator's bottleneck blocks."
        )
    first = ", ".join(
        f"{name} {row['first_call_s']:.1f} s" for name, row in paths.items() if "first_call_s" in row
    )
    if first:
        lines.append(
            f"- **First call**, not counted above (warm-up; for a graph engine, the ONNX export or its "
            f"cached copy and loading): {first}."
        )
    return "\n".join(lines)


def _agreement(data: dict, engines: list[str]) -> str:
    """The agreement sentence: which engines reproduce the loop, and why the others differ."""
    paths, tolerance = data["paths"], data["tolerance"]
    within = [name for name in engines if paths[name]["max_difference_from_loop"] < tolerance]
    parts = [
        f"**Agreement** (target: within {tolerance:.0e} of the loop): "
        + ("within: " + ", ".join(f"`{name}`" for name in within) if within else "no engine within")
    ]
    loop_error = paths[LOOP].get("max_difference_from_float64_loop")
    for name in engines:
        if name in within:
            continue
        row = paths[name]
        error = row.get("max_difference_from_float64_loop")
        text = f"`{name}` is {row['max_difference_from_loop']:.1e} from the loop"
        if error is not None and loop_error is not None:
            rounding = error <= max(tolerance, 2 * loop_error)
            text += f", {error:.1e} from the float64 loop against the float32 loop's {loop_error:.1e}: " + (
                "float32 rounding" if rounding else "**less exact than float32 rounding explains**"
            )
        parts.append(text)
    return "; ".join(parts) + "."


#: The rows of the synthetic-heads table, in the page's order, and how the page names each.
SYNTHETIC_METHODS = {
    "zero-motion": "zero motion (output = source)",
    "blurred-truth": "`blurred-truth`: the driving frames blurred{blur} (a yardstick, not a method)",
    "landmark-warp": "landmark warp (MTCNN 5 points)",
    "fomm": "FOMM, the checkpoint scored (`--checkpoint`)",
    "fomm-self": "the same FOMM, each frame driving itself (`fomm-self`)",
}


def reenact_synthetic(data: dict) -> str:
    """``reenact-eval`` on held-out synthetic heads: the reconstruction protocol, where the right
    answer is the driving frame itself, so the motion is known exactly.

    The targets, as the issue set them: FOMM's keypoint distance at most half zero motion's, and
    its L1 at most the ``blurred-truth`` row's (the right answers, only blurred: what a result with
    perfect motion drawn that sharply loses). ``fomm-self`` (nothing to move) is the generator's
    floor: when it is above zero motion's L1, better motion cannot help the L1, only a sharper
    generator can.
    """
    methods = data["methods"]
    blur = f" {data['blur_sigma']:g} px" if data.get("blur_sigma") else ""
    names = [name for name in SYNTHETIC_METHODS if name in methods] + [
        name for name in methods if name not in SYNTHETIC_METHODS
    ]
    rows = [
        [
            SYNTHETIC_METHODS.get(name, f"`{name}`").format(blur=blur),
            number(methods[name]["l1"], 4),
            number(methods[name].get("keypoint_distance_px"), 2),
        ]
        for name in names
    ]
    videos = max((score.get("videos", 0) for score in methods.values()), default=data.get("videos"))
    heads = f"{videos} held-out synthetic head" + ("" if videos == 1 else "s")
    lines = [
        f"{heads}, {data['frames']} frames of {data['size']} px each: frame 0 is the source "
        "and the same video drives it, so the right answer is the driving frame. L1: mean "
        "absolute difference to it, in [0, 1]; keypoint distance: where the source's 68 true landmarks "
        "end up against where they are, in px (`-`: the row moves nothing).",
        "",
        markdown_table(["method", "L1", "keypoint distance, px"], rows),
        "",
    ]
    fomm, zero, blurred = methods.get("fomm"), methods.get("zero-motion"), methods.get("blurred-truth")
    if fomm and zero and fomm.get("keypoint_distance_px") is not None and zero.get("keypoint_distance_px"):
        distance, zero_distance = fomm["keypoint_distance_px"], zero["keypoint_distance_px"]
        limit = zero_distance / 2
        verdict = "met" if distance <= limit else "not met"
        lines.append(
            f"- **Keypoint target** (at most half of zero motion's, {limit:.2f} px): FOMM's is "
            f"{distance:.2f} px, {distance / zero_distance:.2f}x zero motion's: **{verdict}**."
        )
    if fomm and blurred:
        verdict = "met" if fomm["l1"] <= blurred["l1"] else "not met"
        lines.append(
            f"- **L1 target** ({blurred['l1']:.4f}, the `blurred-truth` row's: perfect motion drawn that "
            f"sharply): FOMM's is {fomm['l1']:.4f}: **{verdict}**."
        )
    self_row = methods.get("fomm-self")
    if self_row and zero:
        above = self_row["l1"] > zero["l1"]
        lines.append(
            f"- **The generator's floor**: each frame driving itself, FOMM loses {self_row['l1']:.4f}, "
            + (
                f"more than not moving at all ({zero['l1']:.4f}): its L1 is bounded by how sharply it "
                "redraws a face, not by the motion."
                if above
                else f"less than zero motion's {zero['l1']:.4f}: better motion can still lower its L1."
            )
        )
    fell_back = [(name, score["fallbacks"]) for name, score in methods.items() if score.get("fallbacks")]
    if fell_back:
        lines.append(
            "- **Fallbacks**: "
            + "; ".join(
                f"`{name}` fell back to zero motion on {count} of {methods[name]['videos']} videos"
                for name, count in fell_back
            )
            + "."
        )
    return "\n".join(lines)

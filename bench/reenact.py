"""Frames per second of the kit's animation against the published demo's per-frame loop.

Both run the same First Order Motion Model weights on the same source and driving frames, in the
same process, alternately, and the script prints the speed ratio. No published checkpoint is
available offline, so the weights are a seeded random initialisation of the chosen config
(vox-256 by default): speed does not depend on the values. Agreement does, though: a freshly
initialised model paints a flat grey (every output within 0.005 of 0.5), which any two paths
"agree" on. So BatchNorm's running statistics are first set from the bench's own frames
(``deepfakelab.reenact.fomm.model.calibrate_batchnorm``); every layer then sees normalised inputs
and the output is a picture (standard deviation about 0.09).

Agreement is reported two ways: the largest difference between the kit and the loop (the issue's
criterion: below 1e-4), and each path's largest difference from the loop computed in float64 on
the first frames. Float32 rounding alone, amplified by BatchNorm channels of small variance,
can move a random network's output by more than 1e-4; the float64 column says whether the kit
is any less exact than the loop, which is what matters.

    python bench/reenact.py                 # vox-256, 256 px, 12 frames, all CPU threads
    python bench/reenact.py --frames 4 --threads 1
    python bench/reenact.py --engines torch,openvino
    python bench/reenact.py --macs          # also multiply-adds per frame of the loop and the kit on torch
    python bench/reenact.py --frames 8 --repeats 2 --threads 2 --json site/data/fomm_engines_vox256.json

``--json FILE`` writes every number printed (per path: CPU and wall seconds per frame, each run's,
the ratios to the loop, the differences from the loop and from the float64 loop), the settings and
the targets, with the ``measured`` block of :mod:`deepfakelab.measured`: the site's Results page
generates its engines tables from it (``site/sitegen/table_fomm.py``).

The kit runs on torch and on each installed inference engine (``animate(..., engine=...)``,
``deepfakelab.reenact.fomm.engines``). An engine's first call exports the model to ONNX (cached, in
the user cache folder here, as the weights come from no file) and loads it; that one-off time is
printed apart and not counted in the frames per second.
"""

from __future__ import annotations

import _kit  # the benches' shared helpers (bench/_kit.py)

import argparse
import copy
import inspect
import sys
import time

import numpy as np
import torch
from deepfakelab.measured import Measurement
from deepfakelab.reenact.fomm.animate import animate, animate_per_frame
from deepfakelab.reenact.fomm.engines import installed_engines
from deepfakelab.reenact.fomm.model import build_model, calibrate_batchnorm
from deepfakelab.threads import prepare_process
from skimage.data import astronaut
from skimage.transform import resize
from torch.utils.flop_counter import FlopCounterMode

TARGET_RATIO = 3.0
TOLERANCE = 1e-4


def make_inputs(size: int, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-image's astronaut as source; the same photo shifted and scaled as driving frames."""
    photo = resize(astronaut()[:300, 100:400], (size, size), anti_aliasing=True).astype(np.float32)
    source = torch.from_numpy(photo).permute(2, 0, 1).unsqueeze(0)
    driving = []
    for i in range(frames):
        theta = torch.tensor(
            [[1 + 0.02 * np.sin(i), 0.0, 0.05 * np.sin(i / 2)], [0.0, 1.0, 0.03 * np.cos(i / 3)]]
        )
        grid = torch.nn.functional.affine_grid(
            theta.unsqueeze(0).float(), (1, 3, size, size), align_corners=False
        )
        driving.append(
            torch.nn.functional.grid_sample(source, grid, padding_mode="border", align_corners=False)
        )
    return source, torch.cat(driving)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--config", default="vox-256", help="built-in config name or YAML path (default: %(default)s)"
    )
    parser.add_argument("--size", type=int, default=256, help="frame side in pixels (default: %(default)s)")
    parser.add_argument(
        "--frames", type=int, default=12, help="driving frames per timed run (default: %(default)s)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=4, help="the kit's batch of driving frames (default: %(default)s)"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads; 0 keeps torch's default")
    parser.add_argument(
        "--repeats", type=int, default=2, help="timed runs of each, alternating (default: %(default)s)"
    )
    parser.add_argument(
        "--engines",
        default="",
        help="comma-separated engines to time besides the loop (default: torch and every installed one)",
    )
    parser.add_argument(
        "--macs",
        action="store_true",
        help="also count multiply-adds per frame of each path (torch's FlopCounterMode)",
    )
    parser.add_argument(
        "--json", metavar="FILE", help="also write every number, the settings and the targets to FILE"
    )
    args = parser.parse_args(argv)
    _kit.check_outputs(parser, json=(args.json, ".json"))
    if args.threads:
        torch.set_num_threads(args.threads)
    measurement = Measurement(threads=torch.get_num_threads())

    engines = args.engines.split(",") if args.engines else installed_engines()
    torch.manual_seed(0)
    model = build_model(args.config)
    source, driving = make_inputs(args.size, args.frames)
    calibrate_batchnorm(model, source, driving)
    print(
        f"config={args.config} size={args.size} frames={args.frames} batch={args.batch_size} "
        f"threads={torch.get_num_threads()} device=cpu (random-init weights, seed 0, BatchNorm calibrated); "
        f"engines installed: {', '.join(installed_engines())}"
    )

    paths = {"per-frame": lambda: animate_per_frame(source, driving, model)}
    for engine in engines:
        paths[engine] = lambda engine=engine: animate(
            source, driving, model, batch_size=args.batch_size, progress=False, engine=engine
        )
    labels = {
        "per-frame": "per-frame loop (published demo's way)",
        **{engine: f"kit animate(engine={engine!r})" for engine in engines},
    }
    # Warm-up: oneDNN primitive creation; for an engine, the ONNX export (or cached copy) and its loading.
    first_call = {}
    for name, run in paths.items():
        start = time.perf_counter()
        animate_per_frame(source, driving[:1], model) if name == "per-frame" else animate(
            source, driving[: args.batch_size], model, batch_size=args.batch_size, progress=False, engine=name
        )
        first_call[name] = time.perf_counter() - start
    print(
        "first call (export or cache, loading, warm-up): "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in first_call.items())
    )
    # Wall time is what a user waits; CPU time (all threads of this process) is the work done and
    # barely moves when other jobs share the machine. Both are the best of the repeats.
    wall = {name: [] for name in paths}
    cpu = {name: [] for name in paths}
    outputs = {}
    for _ in range(args.repeats):
        for name, run in paths.items():
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            outputs[name] = run()
            wall[name].append(time.perf_counter() - start_wall)
            cpu[name].append(time.process_time() - start_cpu)

    reference = outputs["per-frame"]
    difference = {name: (reference - out).abs().max().item() for name, out in outputs.items()}
    exact_frames = min(2, args.frames)
    exact = animate_per_frame(source, driving[:exact_frames], copy.deepcopy(model).double()).float()
    error = {name: (out[:exact_frames] - exact).abs().max().item() for name, out in outputs.items()}
    print(
        f"output standard deviation {reference.std().item():.3f}; largest difference from the float64 loop "
        f"on {exact_frames} frames: " + ", ".join(f"{name} {value:.1e}" for name, value in error.items())
    )
    fps = {name: args.frames / min(times) for name, times in wall.items()}
    cpu_per_frame = {name: min(times) / args.frames for name, times in cpu.items()}
    for name, label in labels.items():
        print(
            f"{label:<40}{fps[name]:7.3f} frames/s, {cpu_per_frame[name]:.2f} CPU s/frame"
            + (
                ""
                if name == "per-frame"
                else f", {fps[name] / fps['per-frame']:.2f}x wall, "
                f"{cpu_per_frame['per-frame'] / cpu_per_frame[name]:.2f}x CPU; "
                f"max |difference| {difference[name]:.1e}"
            )
        )
    best = max(engines, key=fps.get)
    ratio = fps[best] / fps["per-frame"]
    print(
        f"fastest: engine={best!r}, {ratio:.2f}x the loop's wall time (target >= {TARGET_RATIO}x); "
        f"max |difference| = {difference[best]:.2e} (target < {TOLERANCE})"
    )
    macs = report_macs(source, driving, model, args.batch_size) if args.macs else None
    # Float32 rounding differs between any two orderings of the same arithmetic; a path passes if it
    # agrees with the loop, or is within the tolerance of (or no further than twice the loop from) the
    # exact result.
    failed = False
    for name in engines:
        if difference[name] < TOLERANCE:
            continue
        if error[name] > max(TOLERANCE, 2 * error["per-frame"]):
            print(
                f"FAIL: engine={name!r} disagrees with the loop ({difference[name]:.1e}) and is less exact "
                "than float32 rounding explains",
                file=sys.stderr,
            )
            failed = True
        else:
            print(
                f"note: engine={name!r} and the loop differ by more than {TOLERANCE}; against the float64 "
                f"result it is off by {error[name]:.1e} and the loop by {error['per-frame']:.1e}: "
                "float32 rounding",
                file=sys.stderr,
            )
    if ratio < TARGET_RATIO:
        print(f"note: below the {TARGET_RATIO}x target on this machine", file=sys.stderr)
    if args.json:
        settings = {
            "config": args.config,
            "size": args.size,
            "frames": args.frames,
            "batch_size": args.batch_size,
            "threads": torch.get_num_threads(),
            "repeats": args.repeats,
        }
        results = {
            "engines_installed": installed_engines(),
            "default_engine": inspect.signature(animate).parameters["engine"].default,
            "weights": "random initialisation (seed 0), BatchNorm statistics from the bench's own frames",
            "output_std": reference.std().item(),
            "exact_frames": exact_frames,
            "target_ratio": TARGET_RATIO,
            "tolerance": TOLERANCE,
            "paths": {
                name: path_numbers(wall[name], cpu[name], wall["per-frame"], cpu["per-frame"], args.frames)
                | {
                    "first_call_s": first_call[name],
                    "max_difference_from_loop": difference[name],
                    "max_difference_from_float64_loop": error[name],
                }
                for name in paths
            },
            "fastest": best,
            "macs_per_frame": macs,
        }
        _kit.write_json(args.json, settings | results, measurement)
    return 1 if failed else 0


def path_numbers(
    wall: list[float], cpu: list[float], loop_wall: list[float], loop_cpu: list[float], frames: int
) -> dict:
    """One path's timings for the JSON: each run's seconds, and per frame the best run's, with the ratios to
    the loop's best (the figures the bench prints, so the page shows what the terminal did)."""
    return {
        "wall_s_per_frame": min(wall) / frames,
        "frames_per_s": frames / min(wall),
        "cpu_s_per_frame": min(cpu) / frames,
        "wall_vs_loop": min(loop_wall) / min(wall),
        "cpu_vs_loop": min(loop_cpu) / min(cpu),
        "wall_s_runs": wall,
        "cpu_s_runs": cpu,
    }


def count_macs(run) -> float:
    """Multiply-adds of ``run()`` (torch's FlopCounterMode counts two operations per multiply-add)."""
    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops() / 2


def report_macs(source: torch.Tensor, driving: torch.Tensor, model, batch_size: int) -> dict:
    """Print and return multiply-adds per frame of the loop and the kit, and the generator's bottleneck's
    share: the count says how much of a speed-up is fewer operations rather than faster ones."""
    frames = len(driving)
    loop = count_macs(lambda: animate_per_frame(source, driving, model)) / frames
    kit = count_macs(lambda: animate(source, driving, model, batch_size=batch_size, progress=False)) / frames
    # The bottleneck blocks run on the deformed source features, whose shape the encoder gives.
    generator = model.generator
    with torch.no_grad():
        features = source
        for block in [generator.first, *generator.down_blocks]:
            features = block(features)
        bottleneck = count_macs(lambda: generator.bottleneck(features))
    print(
        f"multiply-adds per frame: loop {loop / 1e9:.1f} G, kit {kit / 1e9:.1f} G ({loop / kit:.2f}x fewer); "
        f"{bottleneck / 1e9:.1f} G of each are the generator's bottleneck blocks"
    )
    return {"loop": loop, "kit": kit, "bottleneck": bottleneck}


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    sys.exit(main())

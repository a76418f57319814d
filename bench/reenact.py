"""Frames per second of the kit's animation against the published demo's per-frame loop.

Both run the same First Order Motion Model weights on the same source and driving frames, in the
same process, alternately; the script checks that the outputs agree within 1e-4 and prints the
speed ratio. No published checkpoint is available offline, so the weights are a seeded random
initialisation of the chosen config (vox-256 by default): speed does not depend on the values.

    python bench/reenact.py                 # vox-256, 256 px, 12 frames, all CPU threads
    python bench/reenact.py --frames 4 --threads 1
    python bench/reenact.py --macs          # also count multiply-adds per frame of both paths

The multiply-add count bounds the ratio on an idle machine: both paths run the same generator
bottleneck, so the kit can only save what lies outside it.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

TARGET_RATIO = 2.0
TOLERANCE = 1e-4


def make_inputs(size: int, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-image's astronaut as source; the same photo shifted and scaled as driving frames."""
    from skimage import data
    from skimage.transform import resize

    photo = resize(data.astronaut()[:300, 100:400], (size, size), anti_aliasing=True).astype(np.float32)
    source = torch.from_numpy(photo).permute(2, 0, 1).unsqueeze(0)
    driving = []
    for i in range(frames):
        theta = torch.tensor([[1 + 0.02 * np.sin(i), 0.0, 0.05 * np.sin(i / 2)], [0.0, 1.0, 0.03 * np.cos(i / 3)]])
        grid = torch.nn.functional.affine_grid(theta.unsqueeze(0).float(), (1, 3, size, size), align_corners=False)
        driving.append(torch.nn.functional.grid_sample(source, grid, padding_mode="border", align_corners=False))
    return source, torch.cat(driving)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="vox-256", help="built-in config name or YAML path (default: %(default)s)")
    parser.add_argument("--size", type=int, default=256, help="frame side in pixels (default: %(default)s)")
    parser.add_argument("--frames", type=int, default=12, help="driving frames per timed run (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=4, help="the kit's batch of driving frames (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads; 0 keeps torch's default")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs of each, alternating (default: %(default)s)")
    parser.add_argument("--macs", action="store_true",
                        help="also count multiply-adds per frame of each path (torch's FlopCounterMode)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    from deepfakelab.reenact.animate import animate, animate_per_frame
    from deepfakelab.reenact.model import build_model

    torch.manual_seed(0)
    model = build_model(args.config)
    source, driving = make_inputs(args.size, args.frames)
    print(f"config={args.config} size={args.size} frames={args.frames} batch={args.batch_size} "
          f"threads={torch.get_num_threads()} device=cpu (random-init weights, seed 0)")

    animate_per_frame(source, driving[:1], model)  # warm-up: oneDNN primitive creation
    animate(source, driving[:1], model, progress=False)
    # Wall time is what a user waits; CPU time (all threads of this process) is the work done and
    # barely moves when other jobs share the machine. Both are the best of the repeats.
    wall = {"per-frame": [], "kit": []}
    cpu = {"per-frame": [], "kit": []}
    for _ in range(args.repeats):
        for name in ("per-frame", "kit"):
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            if name == "per-frame":
                reference = animate_per_frame(source, driving, model)
            else:
                ours = animate(source, driving, model, batch_size=args.batch_size, progress=False)
            wall[name].append(time.perf_counter() - start_wall)
            cpu[name].append(time.process_time() - start_cpu)

    difference = (reference - ours).abs().max().item()
    fps = {name: args.frames / min(times) for name, times in wall.items()}
    cpu_per_frame = {name: min(times) / args.frames for name, times in cpu.items()}
    ratio = fps["kit"] / fps["per-frame"]
    cpu_ratio = cpu_per_frame["per-frame"] / cpu_per_frame["kit"]
    print(f"per-frame loop (published demo's way): {fps['per-frame']:.3f} frames/s, {cpu_per_frame['per-frame']:.2f} CPU s/frame")
    print(f"kit animate():                          {fps['kit']:.3f} frames/s, {cpu_per_frame['kit']:.2f} CPU s/frame")
    print(f"speed ratio: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU time (target >= {TARGET_RATIO}x); "
          f"max |difference| = {difference:.2e} (must be < {TOLERANCE})")
    if args.macs:
        report_macs(source, driving, model, args.batch_size)
    if difference >= TOLERANCE:
        print("FAIL: the outputs disagree", file=sys.stderr)
        return 1
    if ratio < TARGET_RATIO:
        print(f"note: below the {TARGET_RATIO}x target on this machine", file=sys.stderr)
    return 0


def count_macs(run) -> float:
    """Multiply-adds of ``run()`` (torch's FlopCounterMode counts two operations per multiply-add)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops() / 2


def report_macs(source: torch.Tensor, driving: torch.Tensor, model, batch_size: int) -> None:
    from deepfakelab.reenact.animate import animate, animate_per_frame

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
    print(f"multiply-adds per frame: loop {loop / 1e9:.1f} G, kit {kit / 1e9:.1f} G (ratio {loop / kit:.2f}x); "
          f"{bottleneck / 1e9:.1f} G of each are the generator's bottleneck blocks, so even a free rest "
          f"would give at most {loop / bottleneck:.2f}x")


if __name__ == "__main__":
    sys.exit(main())

"""Provenance marks (issue 30): how often the watermark survives each attack, how often it is
"found" where it was never put, how visible it is, and what marking costs.

    python bench/provenance.py --clips 20 --json bench/provenance.json   # the committed numbers
    python bench/provenance.py --clips 4 --fp-limit 100                  # a quick look

Generated clips: ``--clips`` reenactments made as ``deepfakelab reenact`` makes them by default
(mesh warp, 256 px face crops, no label band): each a different real photo from
``../shared/data/faces/`` (read in place, never copied; only numbers leave this script) driven by
the kit's synthetic talking head (``--frames`` frames), marked and written by the kit's own writer
(H.264 mp4, signed). Then, on the decoded file:

* ``none`` -- the file as written;
* ``h264_crf28`` -- the file re-encoded by ffmpeg, libx264 CRF 28 (the manifest is lost);
* ``jpeg50`` -- every frame saved as JPEG quality 50;
* ``downscale_0.5`` -- every frame resized to half its width and height (area interpolation);
* ``crop_10pct`` -- 5 % of the width and height cut from each side (the central 90 % kept).

Each attack is scored twice: on the whole clip (the detector folds up to 24 frames) and on single
frames (``--single`` frames per clip, each alone): a payload counts as recovered only when it is
found *and* equals the one written.

False positives: every photo and video under ``../shared/data/real/`` and ``../shared/data/faces/``
(``--fp-limit`` caps the count), none of which the kit marked. PSNR: each marked frame against the
same frame unmarked, before encoding. Cost: embedding time per 256 px frame, signing time per
file, and the whole ``reenact`` (mesh warp, 256 px) with the marks against the same run with them
switched off, best of ``--repeats``, same process.
"""

from __future__ import annotations

import _kit  # noqa: F401 -- first: the kit's thread set-up, before torch loads (bench/_kit.py)

import argparse
import io
import json
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from deepfakelab import __version__
from deepfakelab.errors import DeepfakeLabError
from deepfakelab.media.photo import read_photo
from deepfakelab.media.video import Video, ffmpeg_exe, read_video
from deepfakelab.media.writer import write_video
from deepfakelab.provenance import c2pa_manifest, marking, watermark
from deepfakelab.provenance.verify import verify_file
from deepfakelab.reenact import pipeline
from deepfakelab.reenact.demo import driving_video

SHARED = _kit.REPO.parent / "shared" / "data"
ATTACKS = ("none", "h264_crf28", "jpeg50", "downscale_0.5", "crop_10pct")
FPS = 25.0


def jpeg(frame: np.ndarray, quality: int = 50) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def attacked_frames(path: Path, attack: str, folder: Path) -> np.ndarray:
    if attack == "h264_crf28":
        out = folder / f"{path.stem}_crf28.mp4"
        subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-i", str(path), "-c:v", "libx264", "-crf", "28", str(out)],
                       check=True)
        return read_video(out).frames
    frames = read_video(path).frames
    if attack == "jpeg50":
        return np.stack([jpeg(f) for f in frames])
    if attack == "downscale_0.5":
        h, w = frames.shape[1:3]
        return np.stack([cv2.resize(f, (w // 2, h // 2), interpolation=cv2.INTER_AREA) for f in frames])
    if attack == "crop_10pct":
        h, w = frames.shape[1:3]
        dy, dx = round(h * 0.05), round(w * 0.05)
        return frames[:, dy:h - dy, dx:w - dx]
    return frames


def source_photos(count: int) -> list[Path]:
    """``count`` face photos, spread over the folder's sorted list (the same ones every run)."""
    photos = sorted((SHARED / "faces").rglob("*.jpg"))
    if not photos:
        raise SystemExit(f"no photos under {SHARED / 'faces'}")
    picks = np.linspace(0, len(photos) - 1, min(count * 3, len(photos))).round().astype(int)
    return [photos[i] for i in picks]


def generated_clips(count: int, frames: int, folder: Path):
    """Yield ``(photo, unmarked frames)`` for ``count`` photos whose face the kit can animate."""
    driving = Video(driving_video(frames, fps=FPS)[0], FPS)
    options = pipeline.ReenactOptions(progress=False)
    made = 0
    for photo in source_photos(count):
        if made == count:
            return
        try:
            image, _ = read_photo(photo)
            source = pipeline.prepare_source(image, photo.name, options.size, options.crop_scale)
            result = pipeline.mesh_warp_faces(source, driving, "synthetic head", options)
        except DeepfakeLabError:
            continue  # no face found: the kit would refuse this photo too
        made += 1
        yield photo, np.asarray(result.frames)


def clip_scores(folder: Path, clips: int, frames: int, single: int) -> dict:
    video_hits = {a: 0 for a in ATTACKS}
    frame_hits = {a: 0 for a in ATTACKS}
    frames_tried = 0
    psnrs, embed_s, embed_frames, sign_s, c2pa_valid = [], 0.0, 0, [], 0
    made = 0
    for k, (photo, clip) in enumerate(generated_clips(clips, frames, folder)):
        made += 1
        file_id = (37 * k + 11) & 0xFF
        start = time.perf_counter()
        marked = [watermark.embed(f, file_id) for f in clip]
        embed_s += time.perf_counter() - start
        embed_frames += len(clip)
        psnrs += [10 * np.log10(255 ** 2 / max(np.mean((m.astype(np.float64) - f) ** 2), 1e-12)) for m, f in zip(marked, clip)]
        path = write_video(folder / f"fake_{k}.mp4", marked, FPS,
                           provenance=marking.Provenance(file_id=file_id, sign=False, watermark=False))
        start = time.perf_counter()
        c2pa_manifest.sign_file(path, [photo])
        sign_s.append(time.perf_counter() - start)
        c2pa_valid += verify_file(path).c2pa == "valid"
        picks = np.linspace(0, len(clip) - 1, single).round().astype(int)
        frames_tried += len(picks)
        for attack in ATTACKS:
            attacked = attacked_frames(path, attack, folder)
            found = watermark.detect_frames(attacked)
            video_hits[attack] += found.found and found.payload.file_id == file_id
            for i in picks:
                one = watermark.detect(attacked[i])
                frame_hits[attack] += one.found and one.payload.file_id == file_id
        print(f"  clip {k + 1}: {photo.parent.name}/{photo.name}, {len(clip)} frames, "
              f"PSNR {np.mean(psnrs[-len(clip):]):.1f} dB", flush=True)
    return {
        "clips": made, "frames_per_clip": frames, "single_frames_scored": frames_tried,
        "recovered_clips": {a: video_hits[a] / made for a in ATTACKS},
        "recovered_single_frames": {a: frame_hits[a] / frames_tried for a in ATTACKS},
        "psnr_db": {"mean": float(np.mean(psnrs)), "min": float(np.min(psnrs))},
        "embed_ms_per_256px_frame": 1000 * embed_s / embed_frames,
        "sign_ms_per_file": 1000 * float(np.median(sign_s)),
        "c2pa_valid_after_writing": c2pa_valid / made,
    }


def false_positives(limit: int | None) -> dict:
    files = sorted(p for folder in ("real", "faces") for p in (SHARED / folder).rglob("*")
                   if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".mp4"})
    if limit:
        files = files[:: max(1, len(files) // limit)][:limit]
    found, unreadable, z_max = [], 0, -np.inf
    for i, path in enumerate(files):
        try:
            frames = read_video(path, max_frames=300).frames if path.suffix == ".mp4" else [read_photo(path)[0]]
        except DeepfakeLabError:
            unreadable += 1
            continue
        frames = [np.repeat(f[:, :, None], 3, 2) if f.ndim == 2 else f[:, :, :3] for f in frames]
        result = watermark.detect_frames(frames)
        z_max = max(z_max, result.sync_z)
        if result.found:
            found.append(str(path.relative_to(SHARED)))
        if (i + 1) % 250 == 0:
            print(f"  real media: {i + 1}/{len(files)} checked, {len(found)} false positives", flush=True)
    return {"files": len(files), "unreadable": unreadable, "false_positives": len(found),
            "false_positive_files": found, "highest_sync_z": float(z_max), "threshold_sync_z": watermark.MIN_SYNC_Z}


def reenact_speed(folder: Path, frames: int, repeats: int) -> dict:
    """Whole ``reenact`` (mesh warp, 256 px) marked against unmarked, same process."""
    photo = SHARED / "real" / "s1.jpg"
    driving = write_video(folder / "driving.mp4", driving_video(frames, fps=FPS)[0], FPS, label="driving (synthetic head)")
    options = pipeline.ReenactOptions(method="mesh-warp", progress=False)
    real_provenance = pipeline.Provenance

    def run(marked: bool) -> float:
        pipeline.Provenance = real_provenance if marked else (lambda inputs: marking.Provenance(inputs, sign=False, watermark=False))
        try:
            start = time.perf_counter()
            pipeline.reenact_files(photo, driving, folder / f"speed_{marked}.mp4", options)
            return time.perf_counter() - start
        finally:
            pipeline.Provenance = real_provenance

    run(False)  # warm-up: imports, MTCNN and mesh weights
    best = {True: np.inf, False: np.inf}
    for _ in range(repeats):
        for marked in (False, True):
            best[marked] = min(best[marked], run(marked))
    return {"photo": "real/s1.jpg", "frames": frames, "repeats": repeats,
            "unmarked_fps": frames / best[False], "marked_fps": frames / best[True],
            "marked_over_unmarked": best[False] / best[True]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--frames", type=int, default=24, help="frames per generated clip")
    parser.add_argument("--single", type=int, default=4, help="single frames scored per clip and attack")
    parser.add_argument("--fp-limit", type=int, default=0, help="check only this many real files (0: all)")
    parser.add_argument("--speed-frames", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="write the numbers here")
    args = parser.parse_args()
    _kit.check_outputs(parser, json=(args.json, ".json"))
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    result = {"kit_version": __version__, "command": "python bench/provenance.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v not in (None, "") and k != "json"),
        "machine": f"{platform.machine()}, {args.threads} threads",
        "watermark": {"payload_bits": watermark.PAYLOAD_BITS, "strength_rms": watermark.STRENGTH,
                      "tile": watermark.TILE, "scales_searched": list(watermark.SCALES)}}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        print("generated clips:", flush=True)
        result["generated"] = clip_scores(folder, args.clips, args.frames, args.single)
        print("reenact speed:", flush=True)
        result["reenact_speed"] = reenact_speed(folder, args.speed_frames, args.repeats)
    print("real media:", flush=True)
    result["real_media"] = false_positives(args.fp_limit or None)
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {_kit.shown(args.json)}")


if __name__ == "__main__":
    main()

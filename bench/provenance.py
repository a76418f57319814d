"""Provenance marks (issue 30): how often the watermark survives each attack, how often it is
"found" where it was never put, how visible it is, and what marking costs.

    python bench/provenance.py --json site/data/provenance.json     # the committed numbers (defaults)
    python bench/provenance.py --clips 4 --heads 2 --fp-limit 100   # a quick look

Generated fakes, made as ``deepfakelab reenact`` makes them (mesh warp, 256 px face crops) and
written by the kit's own writer (H.264 mp4, signed), in a temporary folder that is deleted at the
end (only aggregate numbers leave this script; no file name of a real person goes into the JSON):

* ``--clips`` fakes of *real photos*: every photo of ``../shared/data/real/`` first, then photos
  spread over ``../shared/data/faces/`` (read in place, never copied);
* ``--heads`` fakes of *synthetic heads* (:mod:`deepfakelab.heads`, identities with and without
  accessories, rendered at 384 px);
* each driven by one of several drivers, in turn: ``--drivers`` synthetic talking heads (each its
  own identity and motion) and the real talking-head videos of ``../shared/data/real/`` whose face
  the kit finds (``--real-drivers``), ``--frames`` frames of each;
* each written in one of the layouts ``reenact`` writes, in turn: the face crop (its default),
  ``--paste-back`` (the face pasted back into the whole photo: the photo's size), ``--side-by-side``
  (source | driving | result, 768 x 256) and the crop with ``--mark``'s visible band below.

A photo or driver whose face the kit does not find is skipped (``reenact`` would refuse it too).
Then, on the decoded file:

* ``none`` -- the file as written;
* ``h264_crf28`` -- the file re-encoded by ffmpeg, libx264 CRF 28 (the manifest is lost);
* ``jpeg50`` -- every frame saved as JPEG quality 50;
* ``downscale_0.5`` -- every frame resized to half its width and height (area interpolation);
* ``crop_10pct`` -- 5 % of the width and height cut from each side (the central 90 % kept; with
  the visible band, part of the band goes too).

Each attack is scored twice: on the whole clip (the detector folds up to 24 frames) and on single
frames (``--single`` frames per clip, each alone): a payload counts as recovered only when it is
found *and* equals the one written. The rates are given over all fakes and by source and layout.

False positives: every photo and video under ``../shared/data/real/`` and ``../shared/data/faces/``
(``--fp-limit`` caps the count), none of which the kit marked. PSNR: each marked frame against the
same frame unmarked, before encoding. Cost: embedding time per frame, signing time per file, and
the whole ``reenact`` (mesh warp, 256 px) with the marks against the same run with them switched
off, best of ``--repeats``, same process: the ratio is what marking costs.
"""

from __future__ import annotations

import _kit  # the benches' shared helpers (bench/_kit.py)

import argparse
import dataclasses
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
from deepfakelab import faces as face_tools
from deepfakelab.errors import DeepfakeLabError
from deepfakelab.faces.drawing import draw_mesh
from deepfakelab.heads import FaceState, Identity, look_around, nod, render_frame, render_video, shake, talk
from deepfakelab.media.photo import astronaut, read_photo
from deepfakelab.media.video import Video, ffmpeg_exe, read_video
from deepfakelab.media.writer import write_video
from deepfakelab.provenance import c2pa_manifest, marking, watermark
from deepfakelab.provenance.verify import verify_file
from deepfakelab.reenact import pipeline
from deepfakelab.demos.reenact import driving_video
from deepfakelab.reenact.views import side_by_side
from deepfakelab.threads import prepare_process

SHARED = _kit.REPO.parent / "shared" / "data"
ATTACKS = ("none", "h264_crf28", "jpeg50", "downscale_0.5", "crop_10pct")
LAYOUTS = ("crop", "paste-back", "side-by-side", "crop+band")
FPS = 25.0
#: Real talking-head videos used as drivers (faces large enough for the mesh; others are wide shots).
REAL_DRIVERS = (
    "d0.mp4",
    "d10.mp4",
    "d12.mp4",
    "d18.mp4",
    "d20.mp4",
    "hdtf_aoc.mp4",
    "hdtf_kh.mp4",
    "retalk_1.mp4",
    "retalk_2.mp4",
    "retalk_3.mp4",
    "retalk_4.mp4",
    "retalk_5.mp4",
    "vox_dpe_d.mp4",
)


def jpeg(frame: np.ndarray, quality: int = 50) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def attacked_frames(path: Path, attack: str, folder: Path) -> np.ndarray:
    if attack == "h264_crf28":
        out = folder / f"{path.stem}_crf28.mp4"
        subprocess.run(
            [ffmpeg_exe(), "-y", "-v", "error", "-i", str(path), "-c:v", "libx264", "-crf", "28", str(out)],
            check=True,
        )
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
        return frames[:, dy : h - dy, dx : w - dx]
    return frames


def real_photos(count: int) -> list[Path]:
    """Candidates for ``count`` fakes of real photos: every photo of real/, then photos spread over
    faces/ (the same ones every run; more than ``count``, since some faces are not found)."""
    photos = sorted((SHARED / "real").glob("*.jpg"))
    faces = sorted((SHARED / "faces").rglob("*.jpg"))
    if not photos and not faces:
        raise SystemExit(f"no photos under {SHARED}")
    extra = max(0, count * 2 - len(photos))
    picks = (
        np.linspace(0, len(faces) - 1, min(extra, len(faces))).round().astype(int) if extra and faces else []
    )
    return photos + [faces[i] for i in picks]


def synthetic_driver(k: int, frames: int) -> Video:
    """A synthetic talking head of its own identity and motion: looking around, nodding or shaking, while talking."""
    identity = Identity.sample(60 + k, accessory_rate=0.0)
    moving = (look_around, nod, shake)[k % 3](frames, FPS, seed=k)
    talking = talk(frames, FPS, seed=100 + k)
    states = [dataclasses.replace(m, mouth_open=t.mouth_open, smile=t.smile) for m, t in zip(moving, talking)]
    return Video(np.stack([f.image for f in render_video(identity, states, 256, None, FPS)]), FPS)


def drivers(count: int, real: bool, frames: int) -> list[tuple[str, Video, Path | None]]:
    """``(name, video, file or None)``: ``count`` synthetic heads, then the real videos' first
    ``frames`` that drive scikit-image's astronaut (a video whose face the kit loses is left out)."""
    out = [(f"synthetic head {k}", synthetic_driver(k, frames), None) for k in range(count)]
    if real:
        options = pipeline.ReenactOptions(progress=False)
        probe = pipeline.prepare_source(astronaut(), "astronaut", options.size, options.crop_scale)
        for name in REAL_DRIVERS:
            path = SHARED / "real" / name
            if not path.is_file():
                continue
            video = Video(read_video(path, max_frames=frames).frames, FPS)
            try:
                pipeline.mesh_warp_faces(probe, video, name, options)
            except DeepfakeLabError as exc:
                print(f"  driver {name} left out: {str(exc).splitlines()[0]}", flush=True)
                continue
            out.append((name, video, path))
    return out


def fakes(clips: int, heads: int, drive: list, frames: int):
    """Yield ``(kind, layout, photo path or None, driver file or None, unmarked frames, band)``:
    ``clips`` fakes of real photos, then ``heads`` of synthetic heads, drivers and layouts in turn."""
    options = pipeline.ReenactOptions(progress=False)
    sources = [("real photo", p) for p in real_photos(clips)] + [
        ("synthetic head", 200 + k) for k in range(heads * 2)
    ]
    made = {"real photo": 0, "synthetic head": 0}
    wanted = {"real photo": clips, "synthetic head": heads}
    turn = 0
    for kind, source in sources:
        if made[kind] == wanted[kind]:
            continue
        driver_name, video, driver_path = drive[turn % len(drive)]
        layout = LAYOUTS[turn % len(LAYOUTS)]
        try:
            if kind == "real photo":
                image, _ = read_photo(source)
                image = image[:, :, :3] if image.ndim == 3 else np.repeat(image[:, :, None], 3, 2)
                name, photo = source.name, source
            else:  # half with accessories (glasses, masks, hats...), as Lab 1's hard cases
                identity = Identity.sample(source, accessory_rate=0.5)
                image, name, photo = render_frame(identity, FaceState(), 384).image, f"head {source}", None
            face = pipeline.prepare_source(image, name, options.size, options.crop_scale)
            result = pipeline.mesh_warp_faces(face, video, driver_name, options)
        except DeepfakeLabError:
            continue  # no face found: the kit would refuse this photo too
        frames_out = np.asarray(result.frames)
        if layout == "paste-back":
            frames_out = np.stack([face_tools.paste_back(face.photo, f, face.box) for f in frames_out])
        elif layout == "side-by-side":
            frames_out = side_by_side(
                face.crop,
                result.driving_crops,
                frames_out,
                result.source_points,
                result.driving_points,
                result.moved_points,
                draw_mesh,
            )
        made[kind] += 1
        turn += 1
        yield kind, layout, photo, driver_path, frames_out, layout == "crop+band", f"{name} by {driver_name}"


def _rates(hits: dict, total: int) -> dict:
    return {a: hits[a] / total for a in ATTACKS} if total else {}


def clip_scores(folder: Path, clips: int, heads: int, drive: list, frames: int, single: int) -> dict:
    video_hits = {a: 0 for a in ATTACKS}
    frame_hits = {a: 0 for a in ATTACKS}
    groups: dict[str, dict] = {}
    frames_tried = 0
    psnrs, embed_s, embed_px, sign_s, c2pa_valid = [], 0.0, 0, [], 0
    lowest_z = {a: np.inf for a in ATTACKS}
    made = 0
    started = time.perf_counter()
    for k, (kind, layout, photo, driver, clip, band, label) in enumerate(fakes(clips, heads, drive, frames)):
        made += 1
        file_id = (37 * k + 11) & 0xFF
        start = time.perf_counter()
        marked = [watermark.embed(f, file_id) for f in clip]
        embed_s += time.perf_counter() - start
        embed_px += sum(f.shape[0] * f.shape[1] for f in clip)
        psnrs += [
            10 * np.log10(255**2 / max(np.mean((m.astype(np.float64) - f) ** 2), 1e-12))
            for m, f in zip(marked, clip)
        ]
        path = write_video(
            folder / f"fake_{k}.mp4",
            marked,
            FPS,
            visible_mark=band,
            provenance=marking.Provenance(file_id=file_id, sign=False, watermark=False),
        )
        start = time.perf_counter()
        c2pa_manifest.sign_file(path, [p for p in (photo, driver) if p is not None])
        sign_s.append(time.perf_counter() - start)
        c2pa_valid += verify_file(path).c2pa == "valid"
        picks = np.linspace(0, len(clip) - 1, single).round().astype(int)
        frames_tried += len(picks)
        for group in (kind, layout):
            groups.setdefault(group, {"fakes": 0, "hits": {a: 0 for a in ATTACKS}})["fakes"] += 1
        missed = []
        for attack in ATTACKS:
            attacked = attacked_frames(path, attack, folder)
            found = watermark.detect_frames(attacked)
            hit = bool(found.found and found.payload.file_id == file_id)
            video_hits[attack] += hit
            for group in (kind, layout):
                groups[group]["hits"][attack] += hit
            if hit:
                lowest_z[attack] = min(lowest_z[attack], found.sync_z)
            else:
                missed.append(attack)
            for i in picks:
                one = watermark.detect(attacked[i])
                frame_hits[attack] += one.found and one.payload.file_id == file_id
        path.unlink()
        print(
            f"  fake {k + 1}: {kind}, {layout}, {clip.shape[2]}x{clip.shape[1]}, {len(clip)} frames, "
            f"PSNR {np.mean(psnrs[-len(clip) :]):.1f} dB, {'missed after ' + ', '.join(missed) if missed else 'all recovered'} "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    return {
        "clips": made,
        "frames_per_clip": frames,
        "single_frames_scored": frames_tried,
        "recovered_clips": _rates(video_hits, made),
        "recovered_single_frames": _rates(frame_hits, frames_tried),
        "recovered_clips_by_group": {
            g: {"clips": v["fakes"], **_rates(v["hits"], v["fakes"])} for g, v in groups.items()
        },
        "lowest_sync_z_recovered": {a: (float(z) if np.isfinite(z) else None) for a, z in lowest_z.items()},
        "psnr_db": {"mean": float(np.mean(psnrs)), "min": float(np.min(psnrs))},
        "embed_ms_per_256px_frame": 1000 * embed_s / embed_px * 256 * 256,
        "sign_ms_per_file": 1000 * float(np.median(sign_s)),
        "c2pa_valid_after_writing": c2pa_valid / made,
        "seconds": round(time.perf_counter() - started),
    }


def false_positives(limit: int | None) -> dict:
    files = sorted(
        p
        for folder in ("real", "faces")
        for p in (SHARED / folder).rglob("*")
        if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".mp4"}
    )
    if limit:
        files = files[:: max(1, len(files) // limit)][:limit]
    found, unreadable, z_max = [], 0, -np.inf
    for i, path in enumerate(files):
        try:
            frames = (
                read_video(path, max_frames=300).frames if path.suffix == ".mp4" else [read_photo(path)[0]]
            )
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
    return {
        "files": len(files),
        "unreadable": unreadable,
        "false_positives": len(found),
        "false_positive_files": found,
        "highest_sync_z": float(z_max),
        "threshold_sync_z": watermark.MIN_SYNC_Z,
    }


def reenact_speed(folder: Path, frames: int, repeats: int) -> dict:
    """Whole ``reenact`` (mesh warp, 256 px) marked against unmarked, same process."""
    photo = SHARED / "real" / "s1.jpg"
    driving = write_video(
        folder / "driving.mp4", driving_video(frames, fps=FPS)[0], FPS, label="driving (synthetic head)"
    )
    options = pipeline.ReenactOptions(method="mesh-warp", progress=False)
    real_provenance = pipeline.Provenance

    def run(marked: bool) -> float:
        pipeline.Provenance = (
            real_provenance
            if marked
            else (lambda inputs: marking.Provenance(inputs, sign=False, watermark=False))
        )
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
    return {
        "photo": "real/s1.jpg",
        "frames": frames,
        "repeats": repeats,
        "unmarked_fps": frames / best[False],
        "marked_fps": frames / best[True],
        "marked_over_unmarked": best[False] / best[True],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=36, help="fakes of real photos")
    parser.add_argument("--heads", type=int, default=24, help="fakes of synthetic heads")
    parser.add_argument("--drivers", type=int, default=4, help="synthetic talking heads driving them")
    parser.add_argument(
        "--real-drivers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also drive with the real talking-head videos of ../shared/data/real (default: yes)",
    )
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
    result = {
        "kit_version": __version__,
        "command": "python bench/provenance.py "
        + " ".join(
            (
                f"--{k.replace('_', '-')}"
                if v is True
                else f"--no-{k.replace('_', '-')}"
                if v is False
                else f"--{k.replace('_', '-')} {v}"
            )
            for k, v in vars(args).items()
            if v not in (None, "") and k != "json"
        ),
        "machine": f"{platform.machine()}, {args.threads} threads",
        "watermark": {
            "payload_bits": watermark.PAYLOAD_BITS,
            "strength_rms": watermark.STRENGTH,
            "tile": watermark.TILE,
            "scales_searched": list(watermark.SCALES),
        },
    }
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        print("generated fakes:", flush=True)
        drive = drivers(args.drivers, args.real_drivers, args.frames)
        result["generated"] = clip_scores(folder, args.clips, args.heads, drive, args.frames, args.single)
        result["generated"]["drivers"] = {
            "synthetic heads": args.drivers,
            "real videos": sum(d[2] is not None for d in drive),
        }
        print("reenact speed:", flush=True)
        result["reenact_speed"] = reenact_speed(folder, args.speed_frames, args.repeats)
    print("real media:", flush=True)
    result["real_media"] = false_positives(args.fp_limit or None)
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {_kit.shown(args.json)}")


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    main()

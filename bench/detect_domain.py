"""The detector's training-domain check on real files: distance, threshold, flagged, P(fake).

    python bench/detect_domain.py                                   # the shipped detector
    python bench/detect_domain.py --weights runs/real-mnv2/detector.pt --markdown domain.md
    python bench/detect_domain.py --markdown domain.md --json domain.json --threads 1

The table of ``lib/deepfakelab/detect/weights/README.md`` ("Its training-domain check"), for any
weights file: each input goes through :meth:`DeepfakeDetector.analyse` as ``deepfakelab detect``
sends it (``--frames`` evenly spread frames, 16 by default), which gives the median distance of
its faces to the weights' training prototypes, whether that exceeds the weights' threshold
(:mod:`deepfakelab.detect.domain`) and the input's P(fake). Rows, in groups:

- ``painting/statue: flag``: the paintings s9 (the Mona Lisa), s4, s8 and the statue s6: faces
  unlike any training face, which the check should flag;
- ``held-out real: keep``: the test persons' real videos (the shared roster's, :meth:`~deepfakelab.fakes.roster.Roster.shared`);
- ``mesh-warp fake: keep``: mesh-warp reenactments among the test persons, as
  ``deepfakelab reenact PHOTO DRIVING --max-frames 30 --paste-back`` makes them (the photo: the
  target's first frame, saved as PNG), and one of the training photo s1 driven by retalk_4; made
  in a temporary folder and deleted afterwards. ``--paste-back`` (the face put back into the
  whole photo, so the detector crops it from a full frame as from the real videos) is what
  reproduces the README's s1 row to the last digit; without it s1's fake measures 0.0294 / 0.73
  instead of 0.0349 / 0.74. The four fakes of video targets do not match the hand-made table's
  (0.16-0.23 here, 0.15-0.28 there): how their photos were taken was not written down, and the
  distance moves by a few hundredths with the photo's encoding (PNG, JPEG 95, JPEG 75);
- ``validation real (info)`` and ``training photo (info)``: the validation persons' videos and
  the training photos, for reference.

"keep" rows should not be flagged. The summary line counts the flagged rows of each kind.
"""

from __future__ import annotations

import _kit  # the benches' shared helpers (bench/_kit.py)

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from deepfakelab.threads import prepare_process

REPO = Path(__file__).resolve().parents[1]

#: Not people of the shared roster (``deepfakelab/fakes/shared_real_persons.csv``; ``../shared/data/real/README.md``):
#: the Mona Lisa (s9), two paintings of women (s4, s8) and a terracotta statue (s6).
PAINTINGS_AND_STATUE = ("s9.jpg", "s4.jpg", "s8.jpg", "s6.jpg")
#: Mesh-warp fakes as (target, driver) persons of the shared roster: the target's face (a photo, or a
#: video's first frame) moved by the driver's video. Among the test persons L, M, O, P, R, plus
#: the training photo s1 driven by O.
FAKE_PAIRS = (("L", "P"), ("O", "M"), ("P", "R"), ("R", "L"), ("photo-s1", "O"))
#: Driving frames of each fake (``deepfakelab reenact --max-frames 30``).
FAKE_FRAMES = 30
#: ``deepfakelab reenact --paste-back``: the animated face pasted back into the whole photo.
PASTE_BACK = True

FLAG, KEEP, INFO = "flag", "keep", "info"
GROUPS = {
    "painting": ("painting/statue: flag", FLAG),
    "heldout": ("held-out real: keep", KEEP),
    "fake": ("mesh-warp fake: keep", KEEP),
    "val": ("validation real (info)", INFO),
    "photo": ("training photo (info)", INFO),
}
COLUMNS = ("file", "group", "distance", "threshold", "flagged", "P(fake)")


@dataclass
class Row:
    """One input's line of the table (``distance``/``flagged`` None: the weights hold no domain
    statistics, or no face was scored; ``error``: why the input gave no result)."""

    file: str
    group: str
    role: str
    distance: float | None = None
    threshold: float | None = None
    flagged: bool | None = None
    p_fake: float | None = None
    faces: int = 0
    frames: int = 0
    error: str | None = None


def _file_of(person: str) -> str:
    from deepfakelab.fakes.roster import Roster

    files = [f for f, p in Roster.shared().persons.items() if p == person]
    if len(files) != 1:
        raise ValueError(f"person {person!r} has {len(files)} files in the shared roster, not one")
    return files[0]


def fake_name(target: str, driver: str) -> str:
    """``fake_l_by_p.mp4``: person letters (a photo's file stem) in lower case."""
    return f"fake_{target.removeprefix('photo-').lower()}_by_{driver.lower()}.mp4"


def planned(pairs=FAKE_PAIRS) -> list[tuple[str, str]]:
    """``(file, group key)`` of every row, in table order; fakes named by :func:`fake_name`."""
    from deepfakelab.fakes.roster import Roster
    from deepfakelab.media.files import is_image_path

    files_of = Roster.shared().files_of

    rows = [(f, "painting") for f in PAINTINGS_AND_STATUE]
    rows += [(f, "heldout") for f in files_of("test")]
    rows += [(fake_name(t, d), "fake") for t, d in pairs]
    rows += [(f, "val") for f in files_of("val")]
    rows += [(f, "photo") for f in files_of("train") if is_image_path(f)]
    return rows


def make_fake(real: Path, target: str, driver: str, out: Path, frames: int = FAKE_FRAMES) -> Path:
    """The mesh-warp reenactment ``deepfakelab reenact PHOTO DRIVING --max-frames frames
    --paste-back`` writes, PHOTO being the target's photo or its video's first frame (saved as
    PNG beside ``out``)."""
    from PIL import Image

    from deepfakelab.media.files import is_image_path
    from deepfakelab.media.frames import extract_frames
    from deepfakelab.reenact.pipeline import ReenactOptions, reenact_files

    source = real / _file_of(target)
    if not is_image_path(source):
        _, first = extract_frames(source, indices=[0])
        photo = out.with_name(out.stem + "_source.png")
        Image.fromarray(first[0]).save(photo)
        source = photo
    options = ReenactOptions(max_frames=frames, paste_back=PASTE_BACK, progress=False)
    reenact_files(source, real / _file_of(driver), out, options)
    return out


def measure(detector, path: Path, name: str, key: str, frames: int) -> Row:
    """One row: ``detector.analyse(path, count=frames)``, the path ``deepfakelab detect`` takes."""
    group, role = GROUPS[key]
    domain = detector.card.domain
    row = Row(name, group, role, threshold=float(domain["threshold"]) if domain is not None else None)
    result = detector.analyse(path, count=frames, keep_frames=False)
    row.error = result.error
    row.faces, row.frames = len(result.frames), len(result.frames) + len(result.no_face)
    row.p_fake, row.flagged, row.distance = result.p_fake, result.unlike_training, result.domain_distance
    if row.error is None and not row.faces:
        row.error = f"no face found in {row.frames} frames"
    return row


def table_rows(
    detector,
    real: Path,
    frames: int = 16,
    pairs=FAKE_PAIRS,
    fake_frames: int = FAKE_FRAMES,
    only=None,
    announce=print,
) -> list[Row]:
    """Every row of the table (or only those whose file is in ``only``); fakes are made in a
    temporary folder, scored, and deleted."""
    from deepfakelab.errors import DeepfakeLabError

    real = Path(real)
    plan = [(f, k) for f, k in planned(pairs) if only is None or f in only]
    fakes = {fake_name(t, d): (t, d) for t, d in pairs}
    rows = []
    with tempfile.TemporaryDirectory(prefix="detect_domain_") as tmp:
        for name, key in plan:
            start = time.perf_counter()
            try:
                path = (
                    make_fake(real, *fakes[name], Path(tmp) / name, fake_frames)
                    if key == "fake"
                    else real / name
                )
                row = measure(detector, path, name, key, frames)
            except DeepfakeLabError as exc:  # a missing file, no face: a row with its reason, not a stop
                group, role = GROUPS[key]
                row = Row(name, group, role, error=str(exc))
            rows.append(row)
            if announce:
                why = f"  ({row.error})" if row.error else ""
                announce(f"  {name:<18} {time.perf_counter() - start:5.1f} s{why}")
    return rows


def _cell(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def cells(row: Row) -> list[str]:
    flagged = "-" if row.flagged is None else "yes" if row.flagged else "no"
    return [
        row.file,
        row.group,
        _cell(row.distance, 4),
        _cell(row.threshold, 4),
        flagged,
        _cell(row.p_fake, 2),
    ]


def markdown(rows: list[Row]) -> str:
    """The README's table: file | group | distance | threshold | flagged | P(fake)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|---|---:|---:|---|---:|"]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def plain(rows: list[Row]) -> str:
    widths = [max(len(c), *(len(cells(r)[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    right = {2, 3, 5}

    def fmt(values):
        return "  ".join(
            v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths))
        ).rstrip()

    return "\n".join([fmt(COLUMNS)] + [fmt(cells(r)) for r in rows])


def summary(rows: list[Row]) -> dict:
    """Rows flagged out of rows measured, per role (``flag``: should be; ``keep``: should not)."""
    out = {}
    for role in (FLAG, KEEP, INFO):
        part = [r for r in rows if r.role == role]
        out[role] = {
            "flagged": sum(bool(r.flagged) for r in part),
            "rows": len(part),
            "unknown": sum(r.flagged is None for r in part),
        }
    return out


def summary_line(counts: dict) -> str:
    f, k, i = counts[FLAG], counts[KEEP], counts[INFO]
    unknown = sum(c["unknown"] for c in counts.values())
    return (
        f"flag group: {f['flagged']} of {f['rows']} flagged; keep groups: {k['flagged']} of {k['rows']} "
        f"flagged (wrongly); info groups: {i['flagged']} of {i['rows']} flagged"
        + (f"; {unknown} rows without a verdict" if unknown else "")
    )


def main(argv=None) -> int:
    from deepfakelab.detect.inference import DEFAULT_WEIGHTS

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--weights", default=str(DEFAULT_WEIGHTS), help="detector weights (default: the shipped one)"
    )
    parser.add_argument(
        "--real",
        default=str(REPO.parent / "shared/data/real"),
        help="the shared real files (default: ../shared/data/real)",
    )
    parser.add_argument(
        "--frames", type=int, default=16, help="frames scored per input (default: 16, as deepfakelab detect)"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument(
        "--markdown", metavar="FILE", help="also write the table as Markdown (the README's columns)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write every row and the summary as JSON")
    args = parser.parse_args(argv)
    if args.frames < 1:
        parser.error(f"--frames {args.frames}: use at least 1")
    real = Path(args.real)
    if not real.is_dir():
        parser.error(f"--real {real}: no such folder (the shared real faces, ../shared/data/real)")
    _kit.check_outputs(parser, markdown=(args.markdown, ".md"), json=(args.json, ".json"))

    import torch

    from deepfakelab.detect.inference import DeepfakeDetector

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    detector = DeepfakeDetector(args.weights)
    domain = detector.card.domain
    if domain is None:
        print(
            f"note: {args.weights} holds no training-domain statistics: no distance, nothing flagged "
            "(refresh them with deepfakelab detect-domain)"
        )
    print(f"{args.weights}: {args.frames} frames an input, {args.threads} torch threads")
    rows = table_rows(detector, real, frames=args.frames)
    seconds = time.perf_counter() - start
    counts = summary(rows)
    print()
    print(plain(rows))
    print()
    print(summary_line(counts))
    print(
        f"{seconds:.0f} s, {args.threads} threads, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    if args.markdown:
        Path(args.markdown).write_text(markdown(rows))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "weights": _kit.shown(Path(args.weights)),
                    "frames": args.frames,
                    "fake_frames": FAKE_FRAMES,
                    "fake_paste_back": PASTE_BACK,
                    "threshold": None if domain is None else float(domain["threshold"]),
                    "null_percentile": None if domain is None else domain.get("null_percentile"),
                    "rows": [asdict(r) for r in rows],
                    "summary": counts,
                    "seconds": round(seconds, 1),
                    "measured": f"{args.threads} threads, {time.strftime('%Y-%m-%d')}",
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    sys.exit(main())

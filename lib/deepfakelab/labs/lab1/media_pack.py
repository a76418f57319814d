"""Lab 1's media pack: the instructor's own photos and videos, described by one small manifest.

Out of the box Lab 1 works on synthetic heads drawn from seeds (:mod:`.notebook`). A
course that wants real faces hands the lab a *pack*: a folder holding the hard-case photos, the
real videos and optionally a published FOMM checkpoint, plus ``lab1.yaml`` saying which file is
which::

    # Lab 1 media pack, written by `deepfakelab course media init` ...
    photos:               # hard-case source photos, name: file (at least 4)
      glasses: photos/glasses.jpg
    videos:               # real talking-head videos, name: file (at least 3)
      anchor: videos/anchor.mp4
    driving: anchor       # the video whose motion drives the reenactments
    checkpoint: vox-cpk.pth.tar   # optional: the published FOMM vox-256 weights

Names are the files' stems; paths are relative to the pack folder and stay inside it, so a pack
can be copied anywhere (into the course folder, into the student release) and still describe
itself. This module reads, writes and copies packs; :mod:`.media_check` decides whether one is
fit for a term.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

import yaml

from ...datafiles import read_yaml_file
from ...errors import DataError
from ...media.files import check_input_file, check_input_folder, check_output_folder
from ...media.phone import fit_video, needs_fitting

#: The manifest's file name inside a pack folder.
MANIFEST = "lab1.yaml"
#: The lab shows at least this many hard cases and compares the detector on this many real videos.
MIN_PHOTOS = 4
MIN_VIDEOS = 3
#: The assignment a pack belongs to, and the pack's folder inside its student release.
ASSIGNMENT = "lab1"
RELEASE_FOLDER = "media"

_HEADER = (
    "# Lab 1 media pack, written by `deepfakelab course media init`; validate it with\n"
    "# `deepfakelab course media check DIR` and hand it to the course with\n"
    "# `deepfakelab course release lab1 --media DIR`. Paths are relative to this folder.\n"
)


class MediaPackError(DataError):
    """A pack whose manifest cannot be used; the message lists every problem, one per line."""


@dataclass(frozen=True)
class MediaPack:
    """A pack as its manifest describes it: ``name -> absolute path`` for photos and videos."""

    folder: Path
    photos: dict[str, Path]
    videos: dict[str, Path]
    driving: str
    checkpoint: Path | None = None

    @property
    def manifest(self) -> Path:
        return self.folder / MANIFEST

    @property
    def driving_video(self) -> Path:
        return self.videos[self.driving]

    def files(self) -> list[Path]:
        """Every media file the manifest names (photos, videos, checkpoint)."""
        return [*self.photos.values(), *self.videos.values(), *([self.checkpoint] if self.checkpoint else [])]


def read_manifest(folder: str | Path) -> tuple[MediaPack | None, list[str]]:
    """Parse ``folder/lab1.yaml``: the pack (``None`` when unusable) and the manifest's problems.

    Problems are lines naming the manifest: unreadable YAML, missing sections, too few photos or
    videos, a driving video that is not one of the videos, a path that leaves the pack folder.
    Whether the files themselves exist and are usable is :mod:`.media_check`'s job.
    """
    folder = Path(folder)
    manifest = folder / MANIFEST
    try:
        check_input_folder(folder, f"Lab 1 media pack folder with {MANIFEST}")
    except DataError as exc:
        return None, [str(exc)]
    if not manifest.is_file():
        return None, [
            f"{manifest}: no manifest; make a pack with `deepfakelab course media init {folder} ...`"
        ]
    try:
        data = read_yaml_file(manifest, f"Lab 1 media manifest ({MANIFEST})")
    except DataError as exc:
        return None, [str(exc)]
    if not isinstance(data, dict):
        return None, [
            f"{manifest}: expected a mapping with photos, videos and driving, found {type(data).__name__}"
        ]
    problems: list[str] = []
    photos = _entries(data, "photos", MIN_PHOTOS, folder, manifest, problems)
    videos = _entries(data, "videos", MIN_VIDEOS, folder, manifest, problems)
    driving = data.get("driving")
    if driving is None and videos:
        driving = next(iter(videos))
    elif not isinstance(driving, str) or driving not in videos:
        problems.append(
            f"{manifest}: driving is {driving!r}, which is not one of the videos "
            f"({', '.join(videos) or 'none'})"
        )
    checkpoint = None
    if data.get("checkpoint") is not None:
        checkpoint = _inside(folder, data["checkpoint"], manifest, "checkpoint", problems)
    unknown = sorted(set(data) - {"photos", "videos", "driving", "checkpoint"})
    if unknown:
        problems.append(f"{manifest}: unknown keys {unknown} (expected photos, videos, driving, checkpoint)")
    if problems:
        return None, problems
    return MediaPack(folder.resolve(), photos, videos, driving, checkpoint), []


def load_pack(folder: str | Path) -> MediaPack:
    """The pack in ``folder``; :class:`MediaPackError` listing every manifest problem otherwise."""
    pack, problems = read_manifest(folder)
    if pack is None:
        raise MediaPackError("\n".join(problems))
    return pack


def _entries(
    data: dict, key: str, minimum: int, folder: Path, manifest: Path, problems: list[str]
) -> dict[str, Path]:
    entries = data.get(key)
    if not isinstance(entries, dict):
        problems.append(
            f"{manifest}: '{key}' must map names to files (name: file), found {type(entries).__name__}"
        )
        return {}
    if len(entries) < minimum:
        problems.append(f"{manifest}: {len(entries)} {key}; Lab 1 needs at least {minimum}")
    paths = {}
    for name, rel in entries.items():
        path = _inside(folder, rel, manifest, f"{key}.{name}", problems)
        if path is not None:
            paths[str(name)] = path
    return paths


def _inside(folder: Path, rel, manifest: Path, what: str, problems: list[str]) -> Path | None:
    """``folder/rel`` when ``rel`` is a relative path that stays inside ``folder``."""
    if not isinstance(rel, str) or not rel:
        problems.append(f"{manifest}: {what} must be a file name, found {rel!r}")
        return None
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts:
        problems.append(
            f"{manifest}: {what} is {rel!r}; files must lie inside the pack folder (a relative path)"
        )
        return None
    return folder.resolve() / pure


def write_manifest(pack: MediaPack) -> Path:
    """Write ``pack``'s manifest (paths relative to its folder) and return its path."""

    def rel(path: Path) -> str:
        return path.relative_to(pack.folder).as_posix()

    data = {
        "photos": {name: rel(path) for name, path in pack.photos.items()},
        "videos": {name: rel(path) for name, path in pack.videos.items()},
        "driving": pack.driving,
        "checkpoint": rel(pack.checkpoint) if pack.checkpoint else None,
    }
    pack.manifest.write_text(_HEADER + yaml.safe_dump(data, sort_keys=False))
    return pack.manifest


def init_pack(
    folder: str | Path,
    photos: list[str | Path],
    videos: list[str | Path],
    driving: str | Path | None = None,
    checkpoint: str | Path | None = None,
    link: bool = False,
    fit: bool = False,
    note: Callable[[str], None] | None = None,
) -> MediaPack:
    """Make a pack in ``folder`` from the given files: copy (or symlink, ``link``) them, write the manifest.

    Photos go to ``photos/``, videos to ``videos/``, the checkpoint to the top; each is named by
    its file's stem. ``driving`` is one of ``videos`` (a path or a name; default: the first).
    Links point at the files' absolute paths, so the pack can be checked in place; copying it into
    a course (:func:`install_pack`) copies what they point at. ``fit`` writes each video that is
    rotated, larger or faster than the lab needs as an upright, smaller mp4 instead
    (:func:`deepfakelab.media.phone.fit_video`: phone clips), passing each one-line note to
    ``note``. A folder that already holds a pack is left alone (an error): remove it or choose
    another folder.
    """
    folder = Path(folder)
    _check_request(folder, photos, videos, checkpoint, link, fit)
    photo_names = _names(photos, "photo")
    video_names = _names(videos, "video")
    driving_name = _driving_name(driving, video_names)
    folder.mkdir(parents=True, exist_ok=True)
    folder = folder.resolve()
    pack = MediaPack(
        folder,
        {name: _place(Path(p), folder / "photos", link) for name, p in photo_names.items()},
        {name: _place_video(Path(p), folder, link, fit, note) for name, p in video_names.items()},
        driving_name,
        _place(Path(checkpoint), folder, link) if checkpoint else None,
    )
    write_manifest(pack)
    return pack


def _check_request(
    folder: Path,
    photos: list[str | Path],
    videos: list[str | Path],
    checkpoint: str | Path | None,
    link: bool,
    fit: bool,
) -> None:
    """Refuse, before anything is written, a folder that holds a pack, --fit with --link, an
    output folder that cannot be written, and (all of them in one error) files that are missing."""
    if (folder / MANIFEST).exists():
        raise MediaPackError(
            f"{folder / MANIFEST}: a pack is already there; remove it or choose another folder"
        )
    if fit and link:
        raise MediaPackError("fitting videos writes new files: give --fit or --link, not both")
    check_output_folder(folder)
    kinds = [*(["photo"] * len(photos)), *(["video"] * len(videos)), *(["checkpoint"] if checkpoint else [])]
    sources = [Path(p) for p in [*photos, *videos, *([checkpoint] if checkpoint else [])]]
    missing = []
    for source, kind in zip(sources, kinds):
        try:
            check_input_file(source, kind)
        except DataError as exc:
            missing.append(str(exc))
    if missing:
        raise MediaPackError("\n".join(missing))


def _driving_name(driving: str | Path | None, video_names: dict[str, Path]) -> str:
    """The name of the driving video: the first video by default, else the one ``driving`` names
    (by its path or its name)."""
    if driving is None:
        return next(iter(video_names))
    by_path = {str(Path(p).resolve()): name for name, p in video_names.items()}
    driving_name = by_path.get(str(Path(driving).resolve()), str(driving))
    if driving_name not in video_names:
        raise MediaPackError(f"--driving {driving}: not one of the videos ({', '.join(video_names)})")
    return driving_name


def _place(source: Path, where: Path, link: bool) -> Path:
    """``source`` copied into the folder ``where`` (or, with ``link``, linked to its absolute
    path), replacing a file of that name."""
    dest = where / source.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() or dest.is_symlink():
        dest.unlink()
    if link:
        dest.symlink_to(source.resolve())
    else:
        shutil.copy2(source, dest)
    return dest


def _place_video(
    source: Path, folder: Path, link: bool, fit: bool, note: Callable[[str], None] | None
) -> Path:
    """A video placed in ``folder/videos``: as it is, or, with ``fit`` and when it needs it, fitted
    to the lab (:func:`deepfakelab.media.phone.fit_video`), its note passed to ``note``."""
    if not fit or not needs_fitting(source):
        return _place(source, folder / "videos", link)
    fitted = fit_video(source, folder / "videos" / f"{source.stem}.mp4")
    if note is not None:
        note(fitted.note)
    return fitted.path


def _names(paths: list[str | Path], kind: str) -> dict[str, Path]:
    names: dict[str, Path] = {}
    for path in map(Path, paths):
        if path.stem in names:
            raise MediaPackError(
                f"{path}: another {kind} is also named {path.stem!r} ({names[path.stem]}); "
                "rename one (a pack names its files by their stems)"
            )
        names[path.stem] = path
    return names


def install_pack(pack: MediaPack, dest: str | Path) -> MediaPack:
    """Copy ``pack`` to ``dest`` as plain files (links followed), replacing what was there.

    The copy is written beside ``dest`` first and swapped in, so an interrupted copy never leaves
    half a pack where the course reads one.
    """
    dest = Path(dest).resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(dest.name + ".incoming")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    for path in [pack.manifest, *pack.files()]:
        target = staging / path.relative_to(pack.folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)  # follows links: the course gets the files themselves
        target.chmod(0o644)  # writable by the course's owner, whatever the source's mode
    old = dest.with_name(dest.name + ".old")
    if dest.exists():
        if old.exists():
            shutil.rmtree(old)
        os.replace(dest, old)
    os.replace(staging, dest)
    if old.exists():
        shutil.rmtree(old)
    return load_pack(dest)


#: nbgrader's exchange copies no file and no folder larger than this (``CourseDirectory.max_file_size``
#: and ``max_dir_size``, kilobytes, both 100 MB by default), when releasing and when students submit.
EXCHANGE_LIMIT_KB = 100_000


def exchange_note(folder: Path) -> str | None:
    """A warning when the student release ``folder`` is larger than nbgrader's exchange copies by default."""
    size_kb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1000
    if size_kb <= EXCHANGE_LIMIT_KB:
        return None
    return (
        f"{folder} is {size_kb / 1000:.0f} MB with the media pack: nbgrader's exchange copies at most "
        f"{EXCHANGE_LIMIT_KB // 1000} MB per file and per folder by default, when releasing and when students "
        "submit; raise c.CourseDirectory.max_file_size and max_dir_size in nbgrader_config.py, or hand the "
        "checkpoint out another way"
    )


def install_course_media(course, pack: MediaPack) -> Path:
    """Copy ``pack`` into the course folder (``course.media(...)``), where the hidden checks read it."""
    return install_pack(pack, course.media(ASSIGNMENT)).folder


def release_media(course, assignment: str) -> Path | None:
    """Copy the course's pack into the student release of ``assignment`` (``release/<a>/media/``).

    Called after each ``generate_assignment`` (which rewrites the release folder), so every
    release of Lab 1 carries the course's pack; a course without one, or another assignment,
    gets nothing (``None``).
    """
    course_pack = course.media(assignment)
    if assignment != ASSIGNMENT or not (course_pack / MANIFEST).is_file():
        return None
    return install_pack(load_pack(course_pack), course.release(assignment) / RELEASE_FOLDER).folder

"""Collecting an LMS download (``course grade LAB --zip download.zip``) without trusting it.

A module of its own because nbgrader's ``zip_collect`` trusts the download, and every student
writes part of it. Its extractor unpacks each archive it finds and every archive inside those
(``nbgrader.utils.unzip(..., tree=True)``), so an upload that is itself a zip puts its files
beside everyone's: a ``victim_1_lab2.ipynb`` inside is collected as the victim's work, a
classmate's id makes "Duplicate submission file" stop the whole collection, one ``../x`` entry
aborts it, and a small nested zip expands to gigabytes. Its collector then turns whatever
student id the file name holds (``..`` included) into a folder under ``submitted/``.

So the download is read here first, with :mod:`zipfile`, and only what passes every rule goes on:

- nothing is unpacked from an archive inside the download: it is reported by name, never opened;
- entry names are relative, without ``..``, backslashes or control characters; links, special
  files and encrypted entries are refused;
- a notebook's name must give (with the course's ``FileNameCollectorPlugin.named_regexp``) a
  safe student id (:func:`.layout.check_student_id`) and the name of a released notebook;
- a student with two uploads of one notebook, or an upload that cannot be unpacked, is set
  aside whole (both uploads reported, none collected, ``submitted/<id>/`` left as it was): no
  upload can replace another and nobody's work is collected half;
- the bytes actually unpacked are counted as they stream, per file and for the whole download
  (not the sizes the zip's headers claim), and unpacking stops at the cap.

Every refused upload is one line naming it; the others are collected all the same. The vetted
notebooks are written as plain files to ``downloaded/<assignment>/archive/`` (rebuilt for each
download), and nbgrader's ``zip_collect`` then does what it is for, pinned so that it extracts
nothing (``ExtractorPlugin.zip_ext=[]``) and maps names with the very regexp checked here: it
copies them to ``extracted/``, and places each in ``submitted/<id>/<assignment>/`` with the
``timestamp.txt`` it writes when the regexp gives one. Each placed file is compared with what was
vetted afterwards.

nbgrader is imported where it is used, as in :mod:`.grading.grade`: it comes with the ``course`` extra.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import stat
import subprocess
import sys
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from nbgrader.plugins import FileNameCollectorPlugin
from nbgrader.utils import find_all_notebooks, parse_utc
from traitlets.config.loader import PyFileConfigLoader

from ..errors import ConfigError, DataError
from ..media.files import check_input_file
from .layout import Course, check_student_id

#: Most bytes one notebook may unpack to: a lab's notebook with all its figures is a few MB.
MAX_NOTEBOOK_BYTES = 64 * 2**20
#: Most bytes a whole download may unpack to (every upload streamed counts, kept or not).
MAX_DOWNLOAD_BYTES = 4 * 2**30
#: Most entries a download may list: a class of hundreds with a few files each is far below; a
#: download of millions of empty entries is an attack on the time it takes to screen them.
MAX_ENTRIES = 100_000
#: Bytes read at a time while unpacking, so that no cap is passed by more than this.
CHUNK = 2**20
#: Names that are archives nbgrader (or an instructor) might unpack; such uploads are never opened.
ARCHIVE_SUFFIXES = (
    ".zip",
    ".gz",
    ".tgz",
    ".tar",
    ".bz2",
    ".tbz2",
    ".xz",
    ".txz",
    ".lzma",
    ".7z",
    ".rar",
    ".zst",
)
#: First bytes of an archive, for an archive that calls itself a notebook.
ARCHIVE_MAGIC = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x28\xb5\x2f\xfd",
)
#: The only collector whose mapping from names to students can be checked before nbgrader runs.
COLLECTOR = "nbgrader.plugins.zipcollect.FileNameCollectorPlugin"
#: Longest name part a file system takes (bytes).
MAX_NAME_PART = 255
#: Where nbgrader's zip_collect works, as ``downloaded/<assignment>/<step>``.
DOWNLOADED, ARCHIVE, EXTRACTED = "downloaded", "archive", "extracted"

_QUIET = logging.getLogger(f"{__name__}.nbgrader")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@dataclass
class Upload:
    """One notebook of the download that passed the name checks: whose it is and where it goes."""

    info: zipfile.ZipInfo  # the entry (two entries may share a name)
    student: str
    notebook: str
    target: Path  # where it is written under archive/
    digest: str = ""

    @property
    def name(self) -> str:
        """The entry's name in the download, as reported."""
        return self.info.filename


#: What :func:`_stream` says of an upload that passed a cap.
CAPPED = "capped"


class Refused(Exception):
    """An upload that is not collected; the message says why (one line, without the name)."""


def check_zip(zip_path: str | Path) -> Path:
    """``zip_path`` if it is a readable zip archive; a one-line DataError naming it otherwise."""
    zip_path = check_input_file(zip_path, "zip")
    if not zipfile.is_zipfile(zip_path):
        raise DataError(f"{zip_path}: not a zip archive (expected an LMS download of the notebooks)")
    return zip_path


def collect_lms_zip(
    course: Course,
    assignment: str,
    zip_path: str | Path,
    *,
    max_notebook_bytes: int = MAX_NOTEBOOK_BYTES,
    max_download_bytes: int = MAX_DOWNLOAD_BYTES,
) -> list[str]:
    """Put the safe notebooks of an LMS download into ``submitted/`` (see the module doc).

    Returns one line per upload that was not collected, naming it; raises only for a download
    or a configuration that cannot be collected at all.
    """
    zip_path = check_zip(zip_path)
    collector = _collector(course)
    folder = course.root / DOWNLOADED / assignment
    archive = folder / ARCHIVE / _download_folder(zip_path)
    released = set(_released_notebooks(course, assignment))
    shutil.rmtree(folder / ARCHIVE, ignore_errors=True)
    archive.mkdir(parents=True)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            if len(zf.infolist()) > MAX_ENTRIES:
                raise DataError(
                    f"{zip_path}: lists {len(zf.infolist()):,} entries, more than the {MAX_ENTRIES:,} an "
                    "LMS download of one assignment may hold; nothing was collected"
                )
            uploads, problems = _screen(zf, collector, folder / EXTRACTED / archive.name, archive, released)
            uploads, set_aside = _one_per_notebook(uploads)
            kept, failed = _unpack(zf, uploads, max_notebook_bytes, max_download_bytes)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{zip_path}: the zip archive cannot be read ({exc})") from exc
    problems += set_aside + failed
    _run_zip_collect(course, assignment, collector.named_regexp)
    return problems + _placed_problems(course, assignment, kept)


def _collector(course: Course):
    """The course's ``FileNameCollectorPlugin`` (its ``named_regexp``), quiet; ConfigError if unusable."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()
    configured = config.ZipCollectApp.get("collector_plugin", COLLECTOR)
    name = configured if isinstance(configured, str) else f"{configured.__module__}.{configured.__name__}"
    if name != COLLECTOR:
        raise ConfigError(
            f"{course.config}: ZipCollectApp.collector_plugin = {name}: collecting checks every name "
            f"with {COLLECTOR} before nbgrader runs; set FileNameCollectorPlugin.named_regexp instead"
        )
    collector = FileNameCollectorPlugin(config=config)
    collector.log = _QUIET  # it warns for every name it does not match; each is reported here instead
    try:
        groups = re.compile(collector.named_regexp).groupindex
    except re.error as exc:
        raise ConfigError(
            f"{course.config}: FileNameCollectorPlugin.named_regexp is not a regular expression ({exc})"
        ) from exc
    if not {"student_id", "file_id"} <= set(groups):
        raise ConfigError(
            f"{course.config}: FileNameCollectorPlugin.named_regexp needs the groups "
            "(?P<student_id>...) and (?P<file_id>...)"
        )
    return collector


def _download_folder(zip_path: Path) -> str:
    """The folder nbgrader unpacked ``zip_path`` into (its stem), kept so that regexps see the same paths."""
    return zip_path.stem if zip_path.stem.strip(".") else "download"


def _released_notebooks(course: Course, assignment: str) -> list[str]:
    return find_all_notebooks(str(course.release(assignment)))


def _screen(
    zf: zipfile.ZipFile, collector, extracted: Path, archive: Path, released: set[str]
) -> tuple[list[Upload], list[str]]:
    """The notebooks of the download whose names pass every check, and a line for each other upload."""
    uploads, problems = [], []
    for info in zf.infolist():
        try:
            _check_entry(info)
            if info.is_dir():
                continue
            uploads.append(_upload(info, collector, extracted, archive, released))
        except Refused as why:
            problems.append(f"{shown(info.filename)}: {why}")
    return uploads, problems


def _check_entry(info: zipfile.ZipInfo) -> None:
    """Refuse an entry whose name is unsafe to write, or that is a link, a special file or encrypted."""
    why = name_problem(info.filename)
    if why:
        raise Refused(f"{why}; not extracted")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise Refused("a symbolic link; not extracted")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise Refused("not a regular file; not extracted")
    if info.flag_bits & 0x1:
        raise Refused("encrypted; not extracted")


def name_problem(name: str) -> str | None:
    """Why the entry name ``name`` is unsafe to write under a folder, or None."""
    if not name or name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    if "\\" in name or not name.isprintable():
        return "a backslash or a control character in the name"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "'..' in the path"
    if any(part in ("", ".") for part in parts):
        return "an empty or '.' part in the path"
    if any(len(part.encode()) > MAX_NAME_PART for part in parts):
        return f"a name part longer than {MAX_NAME_PART} bytes"
    return None


def _upload(info: zipfile.ZipInfo, collector, extracted: Path, archive: Path, released: set[str]) -> Upload:
    """Whose notebook the entry is, as nbgrader will read it; Refused if it is not collectable."""
    name = info.filename
    base = PurePosixPath(name).name
    if base.lower().endswith(ARCHIVE_SUFFIXES):
        raise Refused("an archive inside the download; not opened, nothing in it collected")
    if not base.endswith(".ipynb"):
        raise Refused("not a notebook (.ipynb); not collected")
    found = collector.collect(str(extracted / name))  # the path nbgrader's collector will be given
    if not found or not isinstance(found.get("student_id"), str) or not isinstance(found.get("file_id"), str):
        raise Refused(
            "the name does not match the course's FileNameCollectorPlugin.named_regexp; not collected"
        )
    try:
        student = check_student_id(found["student_id"])
    except DataError as exc:
        raise Refused(f"{exc}; not collected") from None
    notebook = found["file_id"]
    if notebook not in released:
        raise Refused(
            f"{shown(notebook)} is not a notebook of this assignment ({', '.join(sorted(released))}); "
            "not collected"
        )
    _check_timestamp(found.get("timestamp"))
    return Upload(info, student, notebook, archive / name)


def _check_timestamp(timestamp) -> None:
    """Refuse a timestamp nbgrader cannot read (it would stop the whole collection)."""
    if isinstance(timestamp, str) and timestamp:
        try:
            parse_utc(timestamp)
        except (ValueError, OverflowError):
            raise Refused(
                f"the timestamp {shown(timestamp)} in the name cannot be read; not collected"
            ) from None


def _one_per_notebook(uploads: list[Upload]) -> tuple[list[Upload], list[str]]:
    """Set aside every student with two uploads of one notebook: neither upload can be trusted over the other."""
    seen: dict[tuple[str, str], list[Upload]] = defaultdict(list)
    for upload in uploads:
        seen[upload.student, upload.notebook].append(upload)
    twice = {student for (student, _), group in seen.items() if len(group) > 1}
    problems = [
        f"{shown(later.name)}: a second {later.notebook} from student {shown(later.student)} "
        f"(the first: {shown(group[0].name)}); both set aside, nothing of {shown(later.student)} collected"
        for group in seen.values()
        if len(group) > 1
        for later in group[1:]
    ]
    return [u for u in uploads if u.student not in twice], problems


def _unpack(
    zf: zipfile.ZipFile, uploads: list[Upload], max_notebook: int, max_download: int
) -> tuple[list[Upload], list[str]]:
    """Write each upload, counting the bytes it streams; a student with any failed upload is set aside whole."""
    problems, failed, streamed = [], set(), 0
    for upload in uploads:
        limit = min(max_notebook, max_download - streamed)
        written, why = _stream(zf, upload, limit)
        streamed += written
        if why is None:
            continue
        failed.add(upload.student)
        if why == CAPPED:
            why = (
                f"more than {_size(max_notebook)} unpacked"
                if limit == max_notebook
                else f"the download passed {_size(max_download)} unpacked in all"
            )
        problems.append(
            f"{shown(upload.name)}: {why}; not collected, nothing of {shown(upload.student)} collected"
        )
    for upload in uploads:
        if upload.student in failed:
            upload.target.unlink(missing_ok=True)
    return [u for u in uploads if u.student not in failed], problems


def _stream(zf: zipfile.ZipFile, upload: Upload, limit: int) -> tuple[int, str | None]:
    """Unpack one upload to its target, stopping past ``limit`` bytes: the bytes streamed, and why it
    failed (None if written whole, :data:`CAPPED` at the cap)."""
    digest, written = hashlib.sha256(), 0
    try:
        upload.target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(upload.info) as src, open(upload.target, "xb") as dst:
            while chunk := src.read(CHUNK):
                if written == 0 and chunk.startswith(ARCHIVE_MAGIC):
                    return len(chunk), "an archive named as a notebook, not opened"
                written += len(chunk)
                if written > limit:
                    return written, CAPPED
                digest.update(chunk)
                dst.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        return written, f"cannot be unpacked ({type(exc).__name__}: {exc})"
    upload.digest = digest.hexdigest()
    return written, None


def _run_zip_collect(course: Course, assignment: str, regexp: str) -> None:
    """``nbgrader zip_collect``, pinned to copy (never unpack) and to map names with ``regexp``."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            "zip_collect",
            assignment,
            "--force",
            f"--CourseDirectory.root={course.root}",
            f"--ZipCollectApp.collector_plugin={COLLECTOR}",
            f"--FileNameCollectorPlugin.named_regexp={regexp}",
            "--ExtractorPlugin.zip_ext=[]",
            f"--ZipCollectApp.downloaded_directory={DOWNLOADED}",
            f"--ZipCollectApp.archive_directory={ARCHIVE}",
            f"--ZipCollectApp.extracted_directory={EXTRACTED}",
            "--ZipCollectApp.collect_directory_structure={downloaded}/{assignment_id}/{collect_step}",
        ],
        cwd=course.root,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise DataError(
            f"nbgrader zip_collect {assignment} failed:\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}"
        )


def _placed_problems(course: Course, assignment: str, kept: list[Upload]) -> list[str]:
    """A line for each vetted upload nbgrader did not place where it was checked to go, byte for byte."""
    problems = []
    for upload in kept:
        placed = course.submitted(assignment, upload.student) / upload.notebook
        if not placed.is_file() or hashlib.sha256(placed.read_bytes()).hexdigest() != upload.digest:
            problems.append(f"{shown(upload.name)}: nbgrader zip_collect did not place it as {placed}")
    return problems


def shown(text: str, limit: int = 200) -> str:
    """``text`` for a one-line report: quoted if it holds anything unprintable, cut at ``limit``."""
    text = text if text.isprintable() else ascii(text)
    return text if len(text) <= limit else text[:limit] + "..."


def _size(n: int) -> str:
    """``n`` bytes, in the unit a cap is written in."""
    if n >= 2**30:
        return f"{n / 2**30:g} GiB"
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"

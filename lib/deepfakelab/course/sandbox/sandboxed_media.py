"""Student-made videos and images, decoded in a sandbox: the process that grades never parses them.

A hidden check of Lab 1 looks at the fakes, frames and photos a notebook wrote. Decoding them is
parsing untrusted input -- a crafted file could exploit a bug in ffmpeg's or Pillow's decoders --
so it never happens in the process that decides the grade. That process reads the file's bytes
(a regular file, not a link, at most :data:`MAX_FILE_BYTES`; nothing is interpreted) and sends them
to a decoder: :mod:`.student_server` started with ``--decode``, in a bubblewrap sandbox of its own
(:mod:`.bubblewrap`) that holds no student code, so nothing there can patch the kit's decoders.
The decoded pixels come back as arrays over :mod:`.wire` and are checked for type and shape; a
file that does not decode, or that declares more pixels than a lab's frame may have, fails the
check that needed it with one line naming the file.

The checks use one decoder per process, :func:`media_files`; the hidden-check plugin sets it up
from the grader's options (:func:`configure`), a test calling a check directly gets the default
(the sandbox where bubblewrap runs here, else a separate process with the same-user limits).
"""

from __future__ import annotations

import atexit
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ...media import photo, video, writer
from ..artifacts import ArtifactError
from . import bubblewrap
from .leftovers import prefix
from .remote_student import RemoteStudent

#: Largest media file sent to the decoder (a lab's fakes and frames are a few MiB).
MAX_FILE_BYTES = 128 * 2**20
#: Most pixels one frame or image may declare: more is refused before any pixel is decoded.
MAX_PIXELS = 4096 * 4096
#: Most bytes of decoded frames one answer may hold (the wire's frames stay below its limit).
MAX_DECODED_BYTES = 192 * 2**20

KINDS = ("frames", "image", "frame_count", "metadata")


# --- in the sandbox ---------------------------------------------------------------------------


def decode(kind: str, data: np.ndarray, name: str, *args) -> Any:
    """Decode the file ``name`` whose bytes are ``data`` (run by ``student_server --decode``).

    ``frames`` (with a list of indices) gives ``{"indices": [...], "frames": [arrays]}``, ``image``
    an ``(H, W, 3)`` uint8 array, ``frame_count`` an int, ``metadata`` the container's tags.
    """
    if kind not in KINDS:
        raise ValueError(f"no decoder {kind!r}")
    with tempfile.TemporaryDirectory(prefix=prefix("dfl-decode-")) as folder:
        path = Path(folder) / Path(str(name)).name
        path.write_bytes(np.asarray(data, dtype=np.uint8).tobytes())
        try:
            return _decode(kind, path, *args)
        except Exception as exc:  # the kit's DataError and whatever a broken file makes a decoder raise
            message = str(exc).replace(f"{folder}/", "").strip() or type(exc).__name__
            raise ValueError(message) from None


def _decode(kind: str, path: Path, *args) -> Any:
    if kind == "image":
        Image.MAX_IMAGE_PIXELS = None  # the declared size is checked below, against the stricter MAX_PIXELS
        try:
            with Image.open(path) as opened:
                _check_pixels(path, *opened.size)
        except UnidentifiedImageError:
            raise ValueError(f"{path.name}: not a readable image") from None
        return photo.read_image(path)
    if kind == "metadata":
        return writer.read_metadata(path)
    _check_pixels(path, *video.read_header(path)["size"])
    if kind == "frame_count":
        return video.count_frames(path)
    indices = {int(i) for i in args[0]} if args and args[0] is not None else None
    found, frames, size = [], [], 0
    for index, frame in video.iter_frames(path, indices):
        size += frame.nbytes
        if size > MAX_DECODED_BYTES:
            raise ValueError(
                f"{path.name}: more than {MAX_DECODED_BYTES // 2**20} MiB of decoded frames were asked for"
            )
        found.append(index)
        frames.append(frame)
    return {"indices": found, "frames": frames}


def _check_pixels(path: Path, width: int, height: int) -> None:
    if int(width) * int(height) > MAX_PIXELS:
        raise ValueError(
            f"{path.name}: declares {width}x{height} pixels, more than the {MAX_PIXELS:,} a frame of "
            "this lab may have; write it with the lab's cells"
        )


# --- in the grading process -------------------------------------------------------------------


class SandboxedMedia:
    """Decodes media files in a sandboxed decoder process, started on first use."""

    def __init__(
        self,
        sandbox: bool | None = None,
        memory_mb: int = 8192,
        timeout: float = 120.0,
        hide: tuple[Path, ...] = (),
    ):
        if sandbox is None:
            sandbox = bubblewrap.availability() is None
        self.sandbox, self.memory_mb, self.timeout, self.hide = sandbox, memory_mb, timeout, tuple(hide)
        self._server = None
        self._images: dict[tuple, np.ndarray] = {}

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _ask(self, kind: str, path: Path, *args) -> Any:
        data = _read_bytes(Path(path))
        if self._server is None:
            self._server = RemoteStudent(
                None,
                sandbox=self.sandbox,
                memory_mb=self.memory_mb,
                call_timeout=self.timeout,
                hide=list(self.hide),
            )
        answer = self._server.decode(kind, np.frombuffer(data, dtype=np.uint8), Path(path).name, *args)
        error = answer.get("error")
        if error:
            kind_of = error.get("type")
            if kind_of == "ProcessEnded":
                raise ArtifactError(
                    f"{Path(path).name}: the decoder ran out of memory or was killed on it "
                    "(a damaged file, or one that declares far more than it holds?)"
                )
            if kind_of == "TimeoutError":
                raise ArtifactError(
                    f"{Path(path).name}: decoding it did not finish within {self.timeout:.0f} s"
                )
            message = str(error.get("message") or kind_of)
            name = Path(path).name
            raise ArtifactError(message if message.startswith(name) else f"{name}: {message}")
        return answer.get("value")

    def frames(self, path: Path, indices=None) -> dict[int, np.ndarray]:
        """{index: (H, W, 3) uint8 frame} of the video at ``path``, for ``indices`` (None: every frame)."""
        value = self._ask("frames", path, sorted(int(i) for i in indices) if indices is not None else None)
        found = value.get("indices") if isinstance(value, dict) else None
        frames = value.get("frames") if isinstance(value, dict) else None
        if not (
            isinstance(found, list)
            and isinstance(frames, list)
            and len(found) == len(frames)
            and all(isinstance(i, int) for i in found)
            and all(_is_frame(f) for f in frames)
        ):
            raise ArtifactError(f"{Path(path).name}: the decoder answered something that is not frames")
        return dict(zip(found, frames))

    def image(self, path: Path) -> np.ndarray:
        """The image at ``path`` as ``(H, W, 3)`` uint8 RGB (decoded once per file and size)."""
        try:
            info = os.lstat(path)
        except OSError:
            return self._ask("image", path)  # says it is not found
        key = (str(Path(path).absolute()), info.st_size, info.st_mtime_ns)
        if key not in self._images:
            value = self._ask("image", path)
            if not _is_frame(value):
                raise ArtifactError(f"{Path(path).name}: the decoder answered something that is not an image")
            self._images[key] = value
        return self._images[key]

    def frame_count(self, path: Path) -> int:
        value = self._ask("frame_count", path)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ArtifactError(
                f"{Path(path).name}: the decoder answered something that is not a frame count"
            )
        return value

    def metadata(self, path: Path) -> dict[str, str]:
        value = self._ask("metadata", path)
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ArtifactError(f"{Path(path).name}: the decoder answered something that is not metadata")
        return value


def _is_frame(value) -> bool:
    return (
        isinstance(value, np.ndarray)
        and value.dtype == np.uint8
        and value.ndim == 3
        and value.shape[2] == 3
        and value.shape[0] * value.shape[1] <= MAX_PIXELS
    )


def _read_bytes(path: Path) -> bytes:
    """The bytes of a regular file (never a link, device or fifo), at most :data:`MAX_FILE_BYTES`."""
    try:
        info = os.lstat(path)
    except OSError:
        raise ArtifactError(f"{path.name}: not found; run the cell that writes it and submit again") from None
    if not stat.S_ISREG(info.st_mode):
        raise ArtifactError(f"{path.name}: not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise ArtifactError(f"{path.name}: {info.st_size:,} bytes, more than the {MAX_FILE_BYTES:,} allowed")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ArtifactError(f"{path.name}: more than the {MAX_FILE_BYTES:,} bytes allowed")
    return data


_SHARED: SandboxedMedia | None = None
_OPTIONS: dict = {}


def configure(**options) -> None:
    """How :func:`media_files` starts its decoder (``sandbox``, ``memory_mb``, ``timeout``, ``hide``)."""
    global _SHARED
    if _SHARED is not None:
        _SHARED.close()
        _SHARED = None
    _OPTIONS.clear()
    _OPTIONS.update(options)


def media_files() -> SandboxedMedia:
    """This process's decoder (started on first use, closed at exit)."""
    global _SHARED
    if _SHARED is None:
        _SHARED = SandboxedMedia(**_OPTIONS)
    return _SHARED


@atexit.register
def _close() -> None:
    if _SHARED is not None:
        _SHARED.close()

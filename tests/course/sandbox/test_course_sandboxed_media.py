"""Student-made media are decoded in a sandbox, never in the process that grades.

The grading process only reads a file's bytes; a spy on every decoder of the kit (and on
imageio-ffmpeg and Pillow) in this process proves that none of them runs here, while the frames,
counts, tags and images still come back right. Hostile files -- text named ``.mp4``, an image that
declares 10^10 pixels, a link, a file over the size limit -- each fail with one line naming the file.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from deepfakelab.labs.lab1 import notebook as lab1
from deepfakelab.course.sandbox import sandboxed_media
from deepfakelab.course.artifacts import ArtifactError
from deepfakelab.course.sandbox.sandboxed_media import SandboxedMedia


def _forbid(*args, **kwargs):
    raise AssertionError("a student's media file was parsed in the grading process")


@pytest.fixture
def no_decoding_here(monkeypatch):
    """Every decoder the kit could reach in this process raises (the decoder process is not affected)."""
    import imageio_ffmpeg
    import PIL.Image

    import deepfakelab.media as media
    from deepfakelab.media import photo, video, writer

    for module, names in (
        (video, ("iter_frames", "count_frames", "read_header", "read_video", "probe_video")),
        (photo, ("read_photo", "read_image")),
        (writer, ("read_metadata",)),
        (media, ("iter_frames", "count_frames", "read_metadata", "read_image", "read_photo")),
        (imageio_ffmpeg, ("read_frames",)),
        (PIL.Image, ("open",)),
    ):
        for name in names:
            monkeypatch.setattr(module, name, _forbid)


@pytest.fixture
def decoder():
    media = SandboxedMedia(timeout=60)
    yield media
    media.close()


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG header that declares ``width`` x ``height`` pixels and holds none."""
    ihdr = struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_frames_counts_tags_and_images_come_from_the_sandbox(tmp_path, decoder, request):
    import imageio.v3 as iio

    video = lab1.counter_video(tmp_path / "counter.mp4", frames=9)
    iio.imwrite(tmp_path / "frame.png", np.full((6, 8, 3), 77, np.uint8))
    request.getfixturevalue("no_decoding_here")  # from here on, nothing decodes in this process
    frames = decoder.frames(video, {0, 4, 8})
    assert sorted(frames) == [0, 4, 8] and [lab1.counter_value(frames[i]) for i in (0, 4, 8)] == [0, 4, 8]
    assert decoder.frame_count(video) == 9
    assert "synthetic" in " ".join(decoder.metadata(video).values()).lower()
    image = decoder.image(tmp_path / "frame.png")
    assert image.shape == (6, 8, 3) and image.dtype == np.uint8 and int(image[0, 0, 0]) == 77


def test_hostile_files_fail_with_one_line_naming_them(tmp_path, decoder, monkeypatch, request):
    request.getfixturevalue("no_decoding_here")
    (tmp_path / "fake.mp4").write_text("this is not a video\n" * 50)
    with pytest.raises(ArtifactError, match=r"^fake\.mp4: not a readable video") as caught:
        decoder.frames(tmp_path / "fake.mp4", {0})
    assert "\n" not in str(caught.value) and "/tmp/dfl-decode" not in str(caught.value)
    with pytest.raises(ArtifactError, match=r"^fake\.mp4: not a readable video"):
        decoder.frame_count(tmp_path / "fake.mp4")
    (tmp_path / "bomb.png").write_bytes(_png_declaring(100_000, 100_000))
    with pytest.raises(ArtifactError, match=r"^bomb\.png: declares 100000x100000 pixels, more than"):
        decoder.image(tmp_path / "bomb.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ArtifactError, match=r"^text\.png: not a readable image"):
        decoder.image(tmp_path / "text.png")
    (tmp_path / "link.mp4").symlink_to(tmp_path / "fake.mp4")
    with pytest.raises(ArtifactError, match=r"^link\.mp4: not a regular file"):
        decoder.frames(tmp_path / "link.mp4")
    with pytest.raises(ArtifactError, match=r"^gone\.mp4: not found"):
        decoder.frames(tmp_path / "gone.mp4")
    monkeypatch.setattr(sandboxed_media, "MAX_FILE_BYTES", 100)
    with pytest.raises(ArtifactError, match=r"^fake\.mp4: 1,000 bytes, more than the 100 allowed"):
        decoder.frames(tmp_path / "fake.mp4")


def test_a_server_holding_student_code_refuses_to_decode(tmp_path):
    import nbformat

    from deepfakelab.course.sandbox.remote_student import RemoteStudent

    path = tmp_path / "nb.ipynb"
    nbformat.write(
        nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_code_cell(
                    "def f():\n    return 1", metadata={"nbgrader": {"solution": True, "grade_id": "a"}}
                )
            ]
        ),
        str(path),
    )
    with RemoteStudent(path, sandbox=False, call_timeout=30) as student:
        with pytest.raises(ValueError, match="without student code"):
            student.decode("image", np.zeros(3, np.uint8), "x.png")
        answer = student._answer("decode", "image", (np.zeros(3, np.uint8), "x.png"), {})
        assert answer["error"]["type"] == "PermissionError"

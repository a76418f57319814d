"""Lab 1's media pack made from real photos and videos: init, check, and release into a course.

The real files are read in place from ``../shared/data/real`` (the pack links to them); a broken
pack must get exactly one line per problem, naming the file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from deepfakelab.cli import main
from deepfakelab.labs.lab1.media_check import check_pack, frames_needed
from deepfakelab.labs.lab1.media_pack import MANIFEST, MediaPackError, init_pack, load_pack, read_manifest
from helpers import REPO

PHOTOS = ["d8.jpg", "d19.jpg", "s1.jpg", "s12.jpg"]
VIDEOS = ["d10.mp4", "d18.mp4", "vox_dpe_d.mp4"]
SHIPPED_FOMM = REPO / "lib" / "deepfakelab" / "assets" / "fomm-small-64.pth.tar"


@pytest.fixture(scope="module")
def good_pack(real_data: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pack") / "lab1_media"
    init_pack(
        folder,
        [real_data / p for p in PHOTOS],
        [real_data / v for v in VIDEOS],
        driving=real_data / "d18.mp4",
        checkpoint=SHIPPED_FOMM,
        link=True,
    )
    return folder


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_init_writes_a_manifest_of_links(good_pack, real_data):
    data = yaml.safe_load((good_pack / MANIFEST).read_text())
    assert data["photos"] == {Path(p).stem: f"photos/{p}" for p in PHOTOS}
    assert data["videos"] == {Path(v).stem: f"videos/{v}" for v in VIDEOS}
    assert data["driving"] == "d18" and data["checkpoint"] == SHIPPED_FOMM.name
    assert (good_pack / "photos" / "d8.jpg").resolve() == (real_data / "d8.jpg").resolve()
    pack = load_pack(good_pack)
    assert pack.driving_video == good_pack.resolve() / "videos" / "d18.mp4"


def test_check_passes_on_real_media(good_pack, capsys):
    assert main(["course", "media", "check", str(good_pack)]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    assert "ready for Lab 1: 4 photos" in out.out and "driving: d18" in out.out


def test_broken_pack_gets_one_line_per_problem(good_pack, real_data, tmp_path, capsys):
    from deepfakelab.media.video import iter_frames
    from deepfakelab.media.writer import write_video

    broken = tmp_path / "broken"
    shutil.copytree(good_pack, broken, symlinks=True)
    (broken / "photos" / "d19.jpg").unlink()  # a missing file
    (broken / "photos" / "s12.jpg").unlink()
    (broken / "photos" / "s12.jpg").symlink_to(real_data / "s33.jpg")  # a photo of a dog
    (broken / "photos" / "s1.jpg").unlink()
    (broken / "photos" / "s1.jpg").write_text("not a photo\n")  # unreadable (a multi-line error)
    short = [frame for index, frame in iter_frames(real_data / "d10.mp4") if index < 20]
    (broken / "videos" / "d10.mp4").unlink()
    write_video(broken / "videos" / "d10.mp4", short, 30.0, label="test: 20 frames of d10")  # too short
    (broken / SHIPPED_FOMM.name).unlink()
    (broken / SHIPPED_FOMM.name).write_bytes(SHIPPED_FOMM.read_bytes()[:5000])  # a truncated checkpoint

    assert main(["course", "media", "check", str(broken)]) == 2
    lines = _lines(capsys.readouterr().err)
    problems, summary = lines[:-1], lines[-1]
    assert len(problems) == 5, problems
    assert "5 problem(s)" in summary
    names = ("d19.jpg", "s12.jpg", "s1.jpg", "d10.mp4", SHIPPED_FOMM.name)
    by_file = {name: [line for line in problems if f"/{name}" in line] for name in names}
    assert all(len(found) == 1 for found in by_file.values()), by_file
    assert "no such file" in by_file["d19.jpg"][0]
    assert "no face found" in by_file["s12.jpg"][0]
    assert "not a readable image" in by_file["s1.jpg"][0]
    assert (
        "20 frames" in by_file["d10.mp4"][0] and f"at least {frames_needed(False)}" in by_file["d10.mp4"][0]
    )
    assert "truncated or not a PyTorch checkpoint" in by_file[SHIPPED_FOMM.name][0]


def test_driving_video_must_cover_the_fakes(good_pack, real_data, tmp_path):
    """A video long enough to be scored can still be too short to drive 50-frame fakes."""
    from deepfakelab.labs.lab1 import notebook as lab1
    from deepfakelab.media.video import iter_frames
    from deepfakelab.media.writer import write_video

    assert frames_needed(True) == lab1.DRIVING_FRAMES > frames_needed(False)
    clip = tmp_path / "clip.mp4"
    write_video(
        clip,
        [f for i, f in iter_frames(real_data / "d18.mp4") if i < frames_needed(False)],
        30.0,
        label="test",
    )
    pack = tmp_path / "pack"
    init_pack(
        pack,
        [good_pack / "photos" / p for p in PHOTOS],
        [clip, real_data / "d10.mp4", real_data / "d20.mp4"],
        driving=clip,
        link=True,
    )
    _, problems = check_pack(pack)
    assert len(problems) == 1 and "clip.mp4" in problems[0] and "drives the reenactments" in problems[0], (
        problems
    )


def test_manifest_problems_are_listed_together(tmp_path):
    (tmp_path / MANIFEST).write_text(
        yaml.safe_dump(
            {
                "photos": {"a": "photos/a.jpg", "b": "../outside.jpg"},
                "videos": {"v": "videos/v.mp4"},
                "driving": "w",
                "extra": 1,
            }
        )
    )
    pack, problems = read_manifest(tmp_path)
    assert pack is None
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert "2 photos; Lab 1 needs at least 4" in text and "1 videos; Lab 1 needs at least 3" in text
    assert "inside the pack folder" in text and "driving is 'w'" in text and "unknown keys ['extra']" in text
    assert all(line.startswith(str(tmp_path / MANIFEST)) for line in problems)
    with pytest.raises(MediaPackError):
        load_pack(tmp_path)
    (tmp_path / MANIFEST).write_text("photos: [unclosed")
    assert read_manifest(tmp_path)[1] == [
        f"{tmp_path / MANIFEST}: not valid YAML/JSON (line 1, column 18: expected ',' or ']', but got '<stream end>')"
    ]
    (tmp_path / MANIFEST).write_bytes(b"\xff\xfe\x00photos")
    assert read_manifest(tmp_path)[1] == [
        f"{tmp_path / MANIFEST}: not a text file (expected a Lab 1 media manifest ({MANIFEST}))"
    ]


def test_init_refuses_missing_files_clashing_names_and_an_existing_pack(
    good_pack, real_data, tmp_path, capsys
):
    videos = [str(real_data / v) for v in VIDEOS]
    photos = [str(real_data / p) for p in PHOTOS]
    assert (
        main(
            [
                "course",
                "media",
                "init",
                str(tmp_path / "a"),
                "--photos",
                *photos,
                "nope.jpg",
                "--videos",
                *videos,
            ]
        )
        == 2
    )
    assert "nope.jpg: no such file" in capsys.readouterr().err
    twin = tmp_path / "twin" / "d8.png"
    twin.parent.mkdir()
    twin.write_bytes((real_data / "d8.jpg").read_bytes())
    assert (
        main(
            [
                "course",
                "media",
                "init",
                str(tmp_path / "b"),
                "--photos",
                *photos,
                str(twin),
                "--videos",
                *videos,
            ]
        )
        == 2
    )
    assert "also named 'd8'" in capsys.readouterr().err
    assert main(["course", "media", "init", str(good_pack), "--photos", *photos, "--videos", *videos]) == 2
    assert "a pack is already there" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.timeout(300)
def test_release_with_media_puts_the_pack_in_the_course(good_pack, tmp_path, capsys):
    pytest.importorskip("nbgrader")
    from deepfakelab.course.layout import open_course

    course_dir = tmp_path / "course"
    assert main(["course", "release", "lab1", "--course", str(course_dir), "--media", str(good_pack)]) == 0
    course = open_course(course_dir)
    for copy in (course.media("lab1"), course.release("lab1") / "media"):
        pack = load_pack(copy)
        assert set(pack.photos) == {Path(p).stem for p in PHOTOS} and pack.driving == "d18"
        for path in pack.files():  # plain files with the linked files' bytes, not links
            assert path.is_file() and not path.is_symlink()
            assert path.read_bytes() == (good_pack / path.relative_to(pack.folder)).read_bytes()
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if "note:" in line and "website links" not in line]
    assert "media pack:" in out and not notes  # a few MB: nbgrader's exchange takes it

    # releasing again without --media keeps the course's pack in the student release
    assert main(["course", "release", "lab1", "--course", str(course_dir)]) == 0
    assert (course.release("lab1") / "media" / MANIFEST).is_file()


def test_release_refuses_a_broken_pack_and_changes_nothing(good_pack, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(good_pack, broken, symlinks=True)
    (broken / "videos" / "d10.mp4").unlink()
    course_dir = tmp_path / "course"
    assert main(["course", "release", "lab1", "--course", str(course_dir), "--media", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "nothing was released" in err and "d10.mp4: no such file" in err
    assert not course_dir.exists()
    assert main(["course", "release", "lab2", "--course", str(course_dir), "--media", str(good_pack)]) == 2
    assert "release lab1 with it" in capsys.readouterr().err


def test_a_release_too_big_for_nbgraders_exchange_gets_a_note(tmp_path, monkeypatch):
    from deepfakelab.labs.lab1 import media_pack

    (tmp_path / "a.bin").write_bytes(b"x" * 3000)
    assert media_pack.exchange_note(tmp_path) is None
    monkeypatch.setattr(media_pack, "EXCHANGE_LIMIT_KB", 2)
    note = media_pack.exchange_note(tmp_path)
    assert note.startswith(f"{tmp_path} is 0 MB") and "max_file_size and max_dir_size" in note


def test_release_without_media_adds_no_pack(tmp_path):
    from deepfakelab.course.layout import init_course
    from deepfakelab.labs.lab1.media_pack import release_media

    course = init_course(tmp_path / "course", ["lab1"])
    assert course.media("lab1") == (tmp_path / "course").resolve() / "media" / "lab1"
    assert release_media(course, "lab1") is None
    assert not course.media("lab1").exists()


def test_init_fit_makes_a_rotated_60fps_phone_clip_usable(good_pack, real_data, tmp_path, capsys):
    """A phone held upright: landscape 1280x720 frames at 60 fps, a display rotation of 90 degrees
    (1080p is tested in test_media_phone.py; 720p keeps this test quick)."""
    import subprocess

    import cv2
    import imageio_ffmpeg
    import numpy as np

    from deepfakelab.media.video import iter_frames, probe_video

    coded = tmp_path / "coded.mp4"
    writer = imageio_ffmpeg.write_frames(
        str(coded),
        (1280, 720),
        fps=60,
        codec="libx264",
        macro_block_size=1,
        ffmpeg_log_level="error",
        output_params=["-preset", "ultrafast"],
    )
    writer.send(None)
    for index, frame in iter_frames(real_data / "d18.mp4", set(range(100))):
        upright = np.zeros((1280, 720, 3), np.uint8)
        upright[280:1000] = cv2.resize(frame, (720, 720))
        writer.send(np.ascontiguousarray(np.rot90(upright, k=-1)))  # what the sensor records
    writer.close()
    phone = tmp_path / "phone.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-display_rotation",
            "90",
            "-i",
            str(coded),
            "-c",
            "copy",
            str(phone),
        ],
        check=True,
    )

    pack = tmp_path / "pack"
    photos = [str(good_pack / "photos" / p) for p in PHOTOS]
    videos = [str(phone), str(real_data / "d10.mp4"), str(real_data / "d20.mp4")]
    assert (
        main(["course", "media", "init", str(pack), "--photos", *photos, "--videos", *videos, "--fit"]) == 0
    )
    out = capsys.readouterr().out
    assert (
        "phone.mp4: 720x1280 at 60 fps, rotated 90 degrees as its metadata asks -> 360x640 at 30 fps" in out
    )
    info = probe_video(pack / "videos" / "phone.mp4")
    assert (info.width, info.height, info.fps, info.frame_count) == (360, 640, 30.0, 50)
    assert (pack / "videos" / "d10.mp4").read_bytes() == (
        real_data / "d10.mp4"
    ).read_bytes()  # needs no fitting
    assert check_pack(pack)[1] == []
    assert (
        main(
            [
                "course",
                "media",
                "init",
                str(tmp_path / "p2"),
                "--photos",
                *photos,
                "--videos",
                *videos,
                "--fit",
                "--link",
            ]
        )
        == 2
    )

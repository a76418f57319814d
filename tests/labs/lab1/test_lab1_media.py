"""Lab 1 on a media pack: which media the notebook and the grader read, which reenactment runs,
and the hidden checks' logic on a pack of real photos and videos from ``../shared/data/real``
(read in place through links). The driving video is cut to a few frames and the lab scores two
frames per video (monkeypatched), so the checks run in seconds; the full notebook graded on a
released pack is the slow test in test_course_labs.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import types
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from deepfakelab.labs.lab1 import media as lab1_media, notebook as lab1
from deepfakelab.course.artifacts import ArtifactError
from deepfakelab.course.layout import MEDIA_DIR, kit_root
from deepfakelab.labs.lab1.media_pack import init_pack
from deepfakelab.detect.inference import load_detector
from deepfakelab.detect.model import to_tensor
from deepfakelab.errors import DataError
from deepfakelab.faces.cropper import FaceCropper
from deepfakelab.media import iter_frames, write_video
from helpers import LAB1_RIGHT, failure

CHECKS = kit_root() / "autograder" / "hidden_checks" / "lab1" / "test_lab1.py"
PHOTOS = ["d8.jpg", "d19.jpg", "s1.jpg", "s12.jpg"]
VIDEOS = ["d18.mp4", "d10.mp4", "vox_dpe_d.mp4"]
SHIPPED_FOMM = kit_root() / "lib" / "deepfakelab" / "assets" / "fomm-small-64.pth.tar"


@pytest.fixture(scope="module")
def checks():
    spec = importlib.util.spec_from_file_location("lab1_checks_media", CHECKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_pack(real_data: Path, folder: Path, checkpoint: bool = False) -> Path:
    init_pack(
        folder,
        [real_data / p for p in PHOTOS],
        [real_data / v for v in VIDEOS],
        driving=real_data / "d18.mp4",
        checkpoint=SHIPPED_FOMM if checkpoint else None,
        link=True,
    )
    return folder


@pytest.fixture(scope="module")
def pack(real_data, tmp_path_factory) -> Path:
    return make_pack(real_data, tmp_path_factory.mktemp("pack") / "lab1_media")


@pytest.fixture
def short_lab(monkeypatch):
    """A lab of 6 driving frames scoring frames 3 and 5 (the checks read these at call time)."""
    monkeypatch.setattr(lab1, "DRIVING_FRAMES", 6)
    monkeypatch.setattr(lab1, "SCORE_INDICES", (3, 5))
    monkeypatch.setattr(lab1, "FRAME_INDEX", 5)


def course_with(pack_folder: Path, root: Path) -> Path:
    """A course folder (as the grader names it) whose pack is a copy of ``pack_folder``."""
    root.mkdir(parents=True)
    shutil.copy2(kit_root() / "autograder" / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(pack_folder, root / MEDIA_DIR / "lab1", symlinks=True)
    return root


# --- where the media come from ------------------------------------------------------------------


def test_without_a_pack_the_lab_uses_the_synthetic_media(tmp_path):
    media = lab1_media.resolve_media(tmp_path)
    assert media.synthetic and list(media.photos) == list(lab1.HARD_CASES) and media.driving == lab1.DRIVING
    assert all(path.is_file() for path in [*media.photos.values(), *media.videos.values()])
    assert (tmp_path / "lab1_media" / "astronaut.png").is_file()
    assert np.array_equal(media.photo("dark_glasses"), lab1.source_photo("dark_glasses"))
    assert lab1_media.course_media(None).synthetic and lab1_media.course_media(tmp_path).synthetic


def test_the_student_reads_the_release_copy_and_the_grader_the_course_copy(pack, tmp_path):
    notebook = tmp_path / "student"
    shutil.copytree(pack, notebook / "media", symlinks=True)
    media = lab1_media.resolve_media(notebook)
    assert media.pack == (notebook / "media").resolve() and list(media.photos) == [
        Path(p).stem for p in PHOTOS
    ]
    assert (
        media.driving == "d18"
        and media.checkpoint is None
        and not (notebook / "lab1_media" / "d18.mp4").exists()
    )
    # The student edits their copy: the grader does not see it.
    (notebook / "media" / "lab1.yaml").write_text(
        (notebook / "media" / "lab1.yaml").read_text().replace("driving: d18", "driving: d10")
    )
    assert lab1_media.resolve_media(notebook).driving == "d10"
    course = course_with(pack, tmp_path / "course")
    graded = lab1_media.course_media(course)
    assert graded.pack == (course / MEDIA_DIR / "lab1").resolve() and graded.driving == "d18"


def test_a_broken_pack_is_one_clear_error(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "lab1.yaml").write_text("photos: {a: photos/a.jpg}\nvideos: {}\n")
    with pytest.raises(DataError, match="1 photos; Lab 1 needs at least 4"):
        lab1_media.resolve_media(tmp_path)


# --- which reenactment ----------------------------------------------------------------------------


def test_the_reenactment_in_the_three_cases(pack, real_data, tmp_path):
    synthetic = lab1_media.synthetic_media()
    assert lab1_media.choose_reenactment(synthetic, "dark_glasses").method == lab1_media.FOMM_SMALL
    own, _ = lab1_media.add_own(synthetic, [real_data / "s4.jpg"])
    assert lab1_media.choose_reenactment(own, "my_photo").method == lab1_media.MESH_WARP
    real = lab1_media.from_pack(pack)
    how = lab1_media.choose_reenactment(real, "d8")
    assert how.method == lab1_media.MESH_WARP and "no published FOMM checkpoint" in how.reason
    assert lab1_media.load_fomm(real) is None
    published = lab1_media.from_pack(make_pack(real_data, tmp_path / "with_checkpoint", checkpoint=True))
    for name in [*published.photos, "my_photo"]:
        how = lab1_media.choose_reenactment(lab1_media.add_own(published, [real_data / "s4.jpg"])[0], name)
        assert how.method == lab1_media.FOMM_PUBLISHED and "fomm-small-64.pth.tar" in how.reason
    # The pack's checkpoint is loaded (here the kit's small FOMM standing in for vox-cpk.pth.tar) and timed.
    torch.set_num_threads(1)
    assert lab1_media.measured_speed(lab1_media.load_fomm(published), frames=1) > 0


def test_own_photos_and_video_are_one_more_source_and_one_more_real_video(pack, real_data, tmp_path):
    media = lab1_media.from_pack(pack)
    mine, notes = lab1_media.add_own(
        media, [real_data / "s4.jpg", real_data / "s6.jpg"], real_data / "d20.mp4", folder=tmp_path
    )
    assert list(mine.own) == ["my_photo", "my_photo_2"] and list(mine.sources)[-2:] == [
        "my_photo",
        "my_photo_2",
    ]
    assert (
        list(mine.videos) == [*media.videos, "my_video"]
        and mine.videos["my_video"] == tmp_path / "my_video.mp4"
    )
    assert len(notes) == 1 and notes[0].startswith("d20.mp4: 480x480")
    assert (
        mine.face_box("my_photo") is None and mine.face_box("d8") is not None
    )  # own fakes get no pasted-box fallback
    short = lab1.counter_video(tmp_path / "short.mp4", frames=12)
    with pytest.raises(DataError, match="at least 46"):
        lab1_media.add_own(media, [], short, folder=tmp_path / "short")
    with pytest.raises(DataError, match="nothing.jpg"):
        lab1_media.add_own(media, [tmp_path / "nothing.jpg"])


# --- the hidden checks on a pack of real media --------------------------------------------------


def right_student(exchange: Path):
    return types.SimpleNamespace(**LAB1_RIGHT, exchange=exchange)


def notebook_artifacts(media, folder: Path, own_video: Path | None = None) -> Path:
    """What the solution notebook saves, made with the kit's functions (mesh warp, no checkpoint)."""
    artifacts = folder / "artifacts"
    (artifacts / "frames").mkdir(parents=True)
    driving = media.driving_frames()
    videos = {}
    for name in media.sources:
        fake = lab1_media.reenact(media, name, driving)
        np.save(artifacts / f"reenacted_{name}.npy", fake.motion)
        videos[name] = write_video(artifacts / "videos" / f"{name}.mp4", fake.frames, media.fps)
    for name, path in media.videos.items():
        videos[f"real_{name}"] = path
    detector, config = load_detector()
    cropper = FaceCropper(size=config.size)
    listing, scores = {}, {}
    for name, path in videos.items():
        frames = dict(iter_frames(path, set(lab1.SCORE_INDICES)))
        files = []
        for index in lab1.SCORE_INDICES:
            files.append(f"frames/{name}_{index:04d}.png")
            iio.imwrite(artifacts / files[-1], frames[index])
        listing[name] = {
            "video": os.path.relpath(path, folder),
            "indices": list(lab1.SCORE_INDICES),
            "files": files,
        }
        crops = {
            i: lab1.detector_crop(cropper, frames[i], media.face_box(name))[0] for i in lab1.SCORE_INDICES
        }
        crops = {i: c for i, c in crops.items() if c is not None}
        with torch.no_grad():
            p = torch.softmax(detector(to_tensor(list(crops.values()))), dim=1)[:, 1].numpy() if crops else []
        entry = {"frames": {str(i): float(v) for i, v in zip(crops, p)}}
        if len(p):
            mean = float(np.mean(p))
            entry.update(p_fake=mean, p_real=1 - mean, label="fake" if mean >= 0.5 else "real")
        scores[name] = entry
    (artifacts / "frames.json").write_text(json.dumps(listing))
    (artifacts / "scores.json").write_text(json.dumps(scores))
    return artifacts


def test_the_checks_recompute_the_notebook_on_the_course_pack(checks, pack, real_data, tmp_path, short_lab):
    course = lab1_media.course_media(course_with(pack, tmp_path / "course"))
    notebook = tmp_path / "student"
    shutil.copytree(pack, notebook / "media", symlinks=True)
    mine, _ = lab1_media.add_own(
        lab1_media.resolve_media(notebook),
        [real_data / "s4.jpg", real_data / "s6.jpg"],
        real_data / "d20.mp4",
        folder=notebook / "lab1_media",
    )
    artifacts = notebook_artifacts(mine, notebook)
    student = right_student(tmp_path)
    assert checks.expected_videos(course) == [
        "d8",
        "d19",
        "s1",
        "s12",
        "my_photo",
        "real_d18",
        "real_d10",
        "real_vox_dpe_d",
    ]
    listing = json.loads((artifacts / "frames.json").read_text())
    assert {"my_photo_2", "real_my_video"} <= set(listing)  # the student's own media, checked like the rest
    for check in (checks.test_reenactment, checks.test_frames, checks.test_scores):
        assert failure(check, artifacts, student, course) == "", check.__name__
    assert failure(checks.test_my_photo, artifacts) == ""

    # The mesh warp runs no student code, so the check runs relative_keypoints on the photo's mesh points.
    flipped = types.SimpleNamespace(
        **{**LAB1_RIGHT, "relative_keypoints": lambda s, d, i, scale=1.0: s - scale * (d - i)},
        exchange=tmp_path,
    )
    assert "468 mesh points" in failure(checks.test_reenactment, artifacts, flipped, course)
    # A fake made from other media than the course's is caught ...
    np.save(artifacts / "reenacted_d8.npy", np.load(artifacts / "reenacted_d19.npy"))
    message = failure(checks.test_reenactment, artifacts, student, course)
    assert "expected" in message or "mesh warp of the course's media" in message
    # ... and so are frames taken from a student's swapped copy of a real video of the pack.
    listing["real_d10"]["video"] = listing["real_d18"]["video"]
    for index, file in zip(listing["real_d10"]["indices"], listing["real_d10"]["files"]):
        shutil.copyfile(
            artifacts / listing["real_d18"]["files"][listing["real_d18"]["indices"].index(index)],
            artifacts / file,
        )
    (artifacts / "frames.json").write_text(json.dumps(listing))
    message = failure(checks.test_frames, artifacts, student, course)
    assert "real_d10_0003.png" in message and (
        "is not frame" in message or "is not the video's" in message
    ), message
    # A course video left out of the listing is named.
    del listing["real_vox_dpe_d"]
    (artifacts / "frames.json").write_text(json.dumps(listing))
    with pytest.raises(ArtifactError, match="real_vox_dpe_d"):
        checks.test_frames(artifacts, student, course)


def test_the_checkpoint_case_runs_the_students_motion_at_256_px(checks, real_data, tmp_path, short_lab):
    """The pack's checkpoint is the kit's small FOMM standing in for vox-cpk.pth.tar (no published one here)."""
    media = lab1_media.from_pack(make_pack(real_data, tmp_path / "pack", checkpoint=True))
    torch.set_num_threads(1)
    model = lab1_media.load_fomm(media)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    driving = media.driving_frames()
    for name in media.photos:
        fake = lab1_media.reenact(media, name, driving, model)
        assert fake.motion.shape == (6, 256, 256, 3) and fake.frames.shape[1:] == media.photo(name).shape
        np.save(artifacts / f"reenacted_{name}.npy", fake.motion)
        write_video(artifacts / "videos" / f"{name}.mp4", fake.frames, media.fps)
    assert failure(checks.test_reenactment, artifacts, right_student(tmp_path), media) == ""
    wrong = types.SimpleNamespace(
        **{**LAB1_RIGHT, "relative_keypoints": lambda s, d, i, scale=1.0: s - scale * (d - i)},
        exchange=tmp_path,
    )
    assert "not what your relative_keypoints" in failure(checks.test_reenactment, artifacts, wrong, media)

"""Lab 1's inputs and its hidden checks, without running the notebook.

The full cycle (the notebook executed and graded, right and wrong submissions) is in
test_course_labs.py and is slow; here each function check is called directly with a right and a
plausible wrong answer, so the default run proves the checks catch the mistakes the course
names (off-by-one frame index, wrong sign in the relative motion, swapped real/fake logits) with
messages a student can act on.
"""

from __future__ import annotations

import importlib.util
import types

import numpy as np
import pytest
import torch

from deepfakelab.labs.lab1 import media as lab1_media, notebook as lab1
from deepfakelab.course.layout import kit_root
from deepfakelab.errors import DataError
from helpers import LAB1_RIGHT, failure

CHECKS = kit_root() / "autograder" / "hidden_checks" / "lab1" / "test_lab1.py"
SYNTHETIC = lab1_media.synthetic_media()


@pytest.fixture(scope="module")
def checks():
    spec = importlib.util.spec_from_file_location("lab1_checks", CHECKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def student(**changes):
    """The answers as a local namespace (the grader passes a RemoteStudent with the same interface)."""
    return types.SimpleNamespace(**{**LAB1_RIGHT, **changes})


def test_right_answers_pass_every_function_check(checks, tmp_path):
    answers = student()
    assert failure(checks.test_relative_motion, answers) == ""
    assert failure(checks.test_extract_frame, student(exchange=tmp_path)) == ""
    assert failure(checks.test_scores_functions, answers) == ""
    assert failure(checks.test_overlay, answers) == ""


def test_wrong_sign_in_relative_motion_is_named(checks):
    wrong = student(relative_keypoints=lambda s, d, i, scale=1.0: s - scale * (d - i))
    assert "sign" in failure(checks.test_relative_motion, wrong)
    swapped_order = student(relative_jacobians=lambda js, jd, ji: js @ torch.linalg.inv(ji) @ jd)
    assert "order" in failure(checks.test_relative_motion, swapped_order)


def test_off_by_one_frame_index_is_named(checks, tmp_path):
    def one_based(video_path, index):  # "frame 32 is the 32nd frame"
        from deepfakelab.media import iter_frames

        for count, (_, frame) in enumerate(iter_frames(video_path), start=1):
            if count == index:
                return frame
        raise IndexError(index)

    message = failure(checks.test_extract_frame, student(extract_frame=one_based, exchange=tmp_path))
    assert "one too early" in message and "counted from 0" in message

    def stops_early(video_path, index):  # never reaches the last frame
        return LAB1_RIGHT["extract_frame"](video_path, index if index < 8 else 99)

    assert "IndexError" in failure(
        checks.test_extract_frame, student(extract_frame=stops_early, exchange=tmp_path)
    )


def test_swapped_real_and_fake_logits_are_named(checks):
    swapped = student(fake_probability=lambda logits: torch.softmax(torch.as_tensor(logits), 1)[:, 0].numpy())
    assert "swapped" in failure(checks.test_scores_functions, swapped)
    median = student(
        video_verdict=lambda p: {
            "p_fake": float(np.median(p)),
            "p_real": 1 - float(np.median(p)),
            "label": "fake",
        }
    )
    assert "mean" in failure(checks.test_scores_functions, median)


def test_overlay_without_255_scale_fails(checks):
    import matplotlib

    unscaled = student(
        overlay_cam=lambda f, c, alpha=0.4: np.round(
            (1 - alpha) * f + alpha * matplotlib.colormaps["jet"](c)[..., :3]
        ).astype(np.uint8)
    )
    assert "off by" in failure(checks.test_overlay, unscaled)


def test_missing_function_says_which_cell(checks):
    empty = types.SimpleNamespace()
    assert "relative_keypoints" in failure(checks.test_relative_motion, empty)


def test_counter_video_round_trip(tmp_path):
    from deepfakelab.media import extract_frames

    path = lab1.counter_video(tmp_path / "c.mp4", frames=14)
    info, frames = extract_frames(path, every=1)
    assert info.frame_count == 14
    assert [lab1.counter_value(frames[i]) for i in range(14)] == list(range(14))
    with pytest.raises(DataError, match="1 to 15"):
        lab1.counter_video(tmp_path / "too_long.mp4", frames=16)


def test_lab_inputs_are_deterministic_and_named():
    a, b = lab1.source_photo("dark_glasses"), lab1.source_photo("dark_glasses")
    assert a.shape == (lab1.SIZE, lab1.SIZE, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
    assert not np.array_equal(a, lab1.source_photo("covered_mouth"))
    video = lab1.real_video("nodding", frames=6)
    assert (
        video.shape == (6, lab1.SIZE, lab1.SIZE, 3) and np.abs(video[5].astype(int) - video[0]).mean() > 0.1
    )
    with pytest.raises(DataError, match="dark_glasses"):
        lab1.source_photo("sunglasses")
    assert lab1.FRAME_INDEX in lab1.SCORE_INDICES and 0 not in lab1.SCORE_INDICES
    assert max(lab1.SCORE_INDICES) < lab1.DRIVING_FRAMES


def test_every_hard_case_has_a_face_mtcnn_finds():
    from deepfakelab.faces.detection import detect_faces

    torch.set_num_threads(1)
    missing = [name for name in lab1.HARD_CASES if not detect_faces(lab1.source_photo(name))]
    assert missing == []


def test_malformed_or_forged_frame_listings_score_zero_with_a_message(checks, tmp_path):
    import json

    from deepfakelab.course.artifacts import ArtifactError

    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / "frames.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="frames.json: not valid JSON"):
        checks.test_frames(artifacts, student(exchange=tmp_path), SYNTHETIC)
    (artifacts / "frames.json").write_text(json.dumps({"dark_glasses": {}}))
    with pytest.raises(ArtifactError, match="no frames of"):
        checks.test_frames(artifacts, student(exchange=tmp_path), SYNTHETIC)
    short = {
        name: {"video": "v.mp4", "indices": [3, 9], "files": ["a.png"]}
        for name in checks.expected_videos(SYNTHETIC)
    }
    (artifacts / "frames.json").write_text(json.dumps(short))
    with pytest.raises(ArtifactError, match="not what the extraction cell writes"):
        checks.test_frames(artifacts, student(exchange=tmp_path), SYNTHETIC)
    files = [f"frames/x_{i:04d}.png" for i in lab1.SCORE_INDICES]
    elsewhere = {
        name: {"video": "/etc/hostname", "indices": list(lab1.SCORE_INDICES), "files": files}
        for name in checks.expected_videos(SYNTHETIC)
    }
    (artifacts / "frames.json").write_text(json.dumps(elsewhere))
    with pytest.raises(ArtifactError, match="outside the notebook's folder"):
        checks.test_frames(artifacts, student(exchange=tmp_path), SYNTHETIC)


def test_a_hostile_video_fails_its_check_and_is_never_decoded_here(checks, tmp_path, monkeypatch):
    """Text named .mp4 in frames.json: check_frames fails with one line naming it; no decoder runs here."""
    import json

    import imageio_ffmpeg

    from deepfakelab.course.artifacts import ArtifactError
    from deepfakelab.media import video

    def forbid(*args, **kwargs):
        raise AssertionError("the student's video was decoded in the grading process")

    monkeypatch.setattr(video, "iter_frames", forbid)
    monkeypatch.setattr(imageio_ffmpeg, "read_frames", forbid)
    artifacts = tmp_path / "artifacts"
    (artifacts / "videos").mkdir(parents=True)
    (artifacts / "videos" / "fake.mp4").write_text("#!/bin/sh\necho not a video\n")
    files = [f"frames/x_{i:04d}.png" for i in lab1.SCORE_INDICES]
    listing = {
        name: {"video": "artifacts/videos/fake.mp4", "indices": list(lab1.SCORE_INDICES), "files": files}
        for name in checks.expected_videos(SYNTHETIC)
    }
    (artifacts / "frames.json").write_text(json.dumps(listing))
    with pytest.raises(ArtifactError, match=r"^fake\.mp4: not a readable video"):
        checks.test_frames(artifacts, student(exchange=tmp_path), SYNTHETIC)

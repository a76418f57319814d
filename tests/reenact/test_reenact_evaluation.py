"""The reconstruction protocol's measurements, on hand-made cases and one synthetic head video."""

from __future__ import annotations

import numpy as np
import pytest

from deepfakelab.reenact.evaluation import evaluate_video, landmarks_through_map
from deepfakelab.reenact.landmark_warp import warp_map


def test_landmarks_follow_a_known_shift():
    size = 32
    identity = np.stack(np.meshgrid(np.arange(size), np.arange(size)), axis=-1).astype(float)
    points = np.array([[10.0, 12.0], [20.0, 5.0]])
    assert np.array_equal(landmarks_through_map(identity, points), points)
    shifted = identity - [3, 2]  # result pixel (x, y) shows source (x - 3, y - 2): content moved by (+3, +2)
    assert np.array_equal(landmarks_through_map(shifted, points), points + [3, 2])


def test_thin_plate_map_moves_landmarks_to_their_targets():
    source = np.array([[20.0, 20.0], [44.0, 20.0], [32.0, 32.0], [24.0, 44.0], [40.0, 44.0]])
    target = source + [2.0, -1.0]
    backward = warp_map(64, 64, source, target)
    assert np.abs(landmarks_through_map(backward, source) - target).max() <= 1.0


@pytest.fixture(scope="module")
def head_video():
    from deepfakelab.heads import HeadsConfig, TalkingHeads

    item = TalkingHeads([3], 1, HeadsConfig(size=64, frames=6, motion="shake", accessory_rate=0.0, seed=0))[0]
    video = (item["video"].permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)
    return video, item["landmarks"].numpy(), item["visible"].numpy()


def test_zero_motion_scores_are_the_plain_differences(head_video):
    video, landmarks, visible = head_video
    scores = evaluate_video(video, landmarks, visible, methods=("zero-motion",))["zero-motion"]
    expected_l1 = np.abs(video.astype(np.float32) / 255 - video[:1].astype(np.float32) / 255).mean()
    assert scores.l1 == pytest.approx(expected_l1, rel=1e-5)
    mask = visible & visible[:1]
    moved = np.mean(
        [
            np.linalg.norm(landmarks[t][mask[t]] - landmarks[0][mask[t]], axis=1).mean()
            for t in range(len(video))
        ]
    )
    assert scores.keypoint_distance == pytest.approx(moved, abs=0.5)  # landmarks rounded to pixels
    assert scores.keypoint_distance > 0.5  # the head really moves


def test_fomm_path_runs_with_any_model(head_video):
    from deepfakelab.reenact.fomm.model import build_model

    video, landmarks, visible = head_video
    model = build_model("fomm-small-64")
    scores = evaluate_video(video, landmarks, visible, model, methods=("fomm",))
    assert (
        set(scores) == {"fomm", "fomm-self"}
        and 0 < scores["fomm"].l1 < 1
        and np.isfinite(scores["fomm"].keypoint_distance)
    )
    assert 0 < scores["fomm-self"].l1 < 1 and np.isnan(scores["fomm-self"].keypoint_distance)


def test_redrawing_a_frame_from_itself_costs_the_shipped_model_less_than_moving(head_video):
    """fomm-self is the generator's floor: with the true motion known to be nil it loses less than
    when it has to move the source to another frame."""
    from deepfakelab.labs.lab1.notebook import load_model

    video, landmarks, visible = head_video
    scores = evaluate_video(video, landmarks, visible, load_model(), methods=("fomm",))
    assert scores["fomm-self"].l1 < scores["fomm"].l1


def test_blurred_truth_is_the_frames_against_themselves_blurred(head_video):
    import cv2

    from deepfakelab.reenact.evaluation import BLUR_SIGMA

    video, landmarks, visible = head_video
    score = evaluate_video(video, landmarks, visible, methods=("blurred-truth",))["blurred-truth"]
    truth = video.astype(np.float32) / 255
    expected = np.mean([np.abs(cv2.GaussianBlur(f, (0, 0), BLUR_SIGMA) - f).mean() for f in truth])
    assert score.l1 == pytest.approx(expected, rel=1e-5) and score.l1 > 0.001  # sharp edges lose under blur
    assert np.isnan(score.keypoint_distance)
    sharper = np.mean([np.abs(cv2.GaussianBlur(f, (0, 0), BLUR_SIGMA / 2) - f).mean() for f in truth])
    assert sharper < score.l1


def test_head_turns_fold_nothing_and_the_mesh_warp_tears_less_than_five_points():
    from deepfakelab.reenact.evaluation import evaluate_head_turns

    scores = evaluate_head_turns(identities=(1,), yaws=(30, -35))
    mesh = scores["mesh-warp"]
    assert mesh["flipped_max"] == 0 and mesh["frames"] == 2 and set(mesh["per_yaw"]) == {30, -35}
    assert mesh["seam_l1"] < 0.8 * scores["landmark-warp"]["seam_l1"]  # measured 0.113 against 0.257
    assert mesh["uncovered_max"] == 0  # no pixel between the face and the support layers left to a neighbour
    loose = evaluate_head_turns(identities=(1,), yaws=(30, -35), unfold=False)["mesh-warp"]
    assert loose["flipped_max"] > 0  # what unfolding removes (measured 5)


def test_the_still_background_lowers_the_error_outside_the_face_on_turning_heads():
    from deepfakelab.reenact.evaluation import evaluate_head_turns

    layered = evaluate_head_turns(identities=(2,), yaws=(30, -30))["mesh-warp"]
    plain = evaluate_head_turns(identities=(2,), yaws=(30, -30), background=False)["mesh-warp"]
    assert set(layered["outside_per_yaw"]) == {30, -30}
    assert layered["outside_l1"] < plain["outside_l1"]

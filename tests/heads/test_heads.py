"""Synthetic heads: determinism, landmarks that follow pose and expression, masks, occlusion."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from deepfakelab.errors import ConfigError
from deepfakelab.heads.background import make_background
from deepfakelab.heads import (
    ACCESSORY_KINDS,
    CameraEffects,
    FaceState,
    Identity,
    look_around,
    nod,
    random_trajectory,
    render_frame,
    render_video,
    shake,
    surprise,
    talk,
)

SIZE = 128
NOSE_TIP, CHIN = 30, 8
RIGHT_EYE, LEFT_EYE = list(range(36, 42)), list(range(42, 48))
BROWS = list(range(17, 27))
MOUTH = list(range(48, 68))
INNER_TOP, INNER_BOTTOM = 62, 66


@pytest.fixture(scope="module")
def person() -> Identity:
    return Identity.sample(11, accessory_rate=0.0)


def frame(identity, size=SIZE, **state):
    return render_frame(identity, FaceState(**state), size)


def test_same_seed_same_pixels_and_different_seeds_differ(person):
    assert Identity.sample(11, accessory_rate=0.0) == person
    state = random_trajectory(3, 10)[7]
    a, b = render_frame(person, state, SIZE), render_frame(person, state, SIZE)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.landmarks, b.landmarks)
    other = render_frame(Identity.sample(12, accessory_rate=0.0), state, SIZE)
    assert np.abs(other.image.astype(int) - a.image).mean() > 5
    assert random_trajectory(3, 10) == random_trajectory(3, 10)
    assert random_trajectory(3, 10) != random_trajectory(4, 10)


def test_many_distinct_identities():
    people = {Identity.sample(k) for k in range(300)}
    assert len(people) == 300
    styles = {p.hair_style for p in people}
    backgrounds = {p.background for p in people}
    worn = {a for p in people for a in p.accessories}
    assert len(styles) == 5 and len(backgrounds) == 4
    assert worn == set(ACCESSORY_KINDS) - {"none"}
    bare = [Identity.sample(k, accessory_rate=0.0) for k in range(50)]
    assert all(p.accessories == () for p in bare)


def test_output_types_shapes_and_ranges(person):
    f = frame(person, size=64, yaw=10, mouth_open=0.5)
    assert f.image.shape == (64, 64, 3) and f.image.dtype == np.uint8
    assert f.landmarks.shape == (68, 2) and f.landmarks.dtype == np.float32
    assert f.visible.shape == (68,) and f.visible.dtype == bool
    assert f.pose.shape == (6,) and f.pose[0] == pytest.approx(10)
    assert f.expression[0] == pytest.approx(0.5)
    assert set(f.masks) == {"background", "body", "face", "eyes", "mouth", "hair", "accessories"}
    # The layers on top partition the image (face contains eyes and mouth).
    layers = sum(f.masks[k].astype(int) for k in ("background", "body", "face", "hair", "accessories"))
    assert np.all(layers == 1)
    assert np.all(f.masks["face"][f.masks["eyes"]]) and np.all(f.masks["face"][f.masks["mouth"]])


@pytest.mark.parametrize("size", [64, 128, 256])
def test_any_size_renders_the_same_face_scaled(person, size):
    small, big = frame(person, size=64), frame(person, size=size)
    np.testing.assert_allclose(big.landmarks / size, small.landmarks / 64, atol=1e-5)
    assert big.masks["face"].mean() == pytest.approx(small.masks["face"].mean(), abs=0.02)


def test_yaw_moves_eyes_and_nose_sideways_and_hides_the_far_jaw(person):
    front = frame(person)
    right = frame(person, yaw=25)
    left = frame(person, yaw=-25)
    for eye in (RIGHT_EYE, LEFT_EYE):
        assert right.landmarks[eye, 0].mean() > front.landmarks[eye, 0].mean() + 3
        assert left.landmarks[eye, 0].mean() < front.landmarks[eye, 0].mean() - 3
    # The nose stands out of the face, so it moves further than the eyes do.
    eye_shift = (
        right.landmarks[RIGHT_EYE + LEFT_EYE, 0].mean() - front.landmarks[RIGHT_EYE + LEFT_EYE, 0].mean()
    )
    assert right.landmarks[NOSE_TIP, 0] - front.landmarks[NOSE_TIP, 0] > eye_shift
    # The far eye foreshortens.
    width = lambda f, eye: f.landmarks[eye[3], 0] - f.landmarks[eye[0], 0]  # noqa: E731
    assert width(right, LEFT_EYE) < 0.9 * width(front, LEFT_EYE)
    turned = frame(person, yaw=55)
    assert front.visible[[0, 16]].all()
    assert not turned.visible[16] and turned.visible[0]


def test_pitch_and_roll(person):
    front, up = frame(person), frame(person, pitch=20)
    assert up.landmarks[NOSE_TIP, 1] < front.landmarks[NOSE_TIP, 1] - 3
    rolled = frame(person, roll=20)
    eye_line = rolled.landmarks[45] - rolled.landmarks[36]
    assert np.degrees(np.arctan2(eye_line[1], eye_line[0])) == pytest.approx(20, abs=1.0)


def test_mouth_opens_and_shows_its_inside_and_teeth(person):
    gaps = [frame(person, yaw=20, mouth_open=m).landmarks for m in (0.0, 0.5, 1.0)]
    inner = [lm[INNER_BOTTOM, 1] - lm[INNER_TOP, 1] for lm in gaps]
    outer = [lm[57, 1] - lm[51, 1] for lm in gaps]
    assert inner[0] < 0.5 and inner[0] < inner[1] < inner[2] and inner[2] > 6
    assert outer[0] < outer[1] < outer[2]
    assert gaps[2][CHIN, 1] > gaps[0][CHIN, 1] + 2  # the jaw drops
    wide = frame(person, size=256, yaw=20, mouth_open=1.0)
    x, y = np.round((wide.landmarks[INNER_TOP] + 2 * wide.landmarks[INNER_BOTTOM]) / 3).astype(int)
    assert wide.image[y, x].astype(int).sum() < 200  # dark mouth interior between the lips
    tx, ty = np.round(wide.landmarks[INNER_TOP] + [0, 2]).astype(int)
    teeth = wide.image[ty, tx].astype(int)
    assert teeth.sum() > wide.image[y, x].astype(int).sum() + 150  # upper teeth under the upper lip
    assert np.ptp(teeth) < 40  # and they are white-ish, not lip red
    assert wide.masks["mouth"].sum() > frame(person, size=256, yaw=20).masks["mouth"].sum()


def test_smile_blink_and_brows(person):
    neutral = frame(person)
    smile = frame(person, smile=1.0)
    corners = lambda f: f.landmarks[[48, 54]]  # noqa: E731
    assert (corners(smile)[:, 1] < corners(neutral)[:, 1] - 1).all()
    assert np.ptp(corners(smile)[:, 0]) > np.ptp(corners(neutral)[:, 0])
    closed = frame(person, blink=1.0)
    height = lambda f: (f.landmarks[[41, 40], 1] - f.landmarks[[37, 38], 1]).mean()  # noqa: E731
    assert height(neutral) > 3 and abs(height(closed)) < 1
    assert neutral.masks["eyes"].sum() > 20 and closed.masks["eyes"].sum() == 0
    raised = frame(person, brow_raise=1.0)
    assert (raised.landmarks[BROWS, 1] < neutral.landmarks[BROWS, 1] - 1).all()


def test_gaze_moves_the_irises(person):
    def dark_centre(f):
        eye = f.masks["eyes"] & (f.image.astype(int).sum(-1) < 250)  # iris and pupil pixels
        ys, xs = np.nonzero(eye)
        return xs.mean(), ys.mean()

    centre = dark_centre(frame(person, size=256))
    right = dark_centre(frame(person, size=256, gaze_x=1.0))
    down = dark_centre(frame(person, size=256, gaze_y=1.0))
    assert right[0] > centre[0] + 3 and abs(right[1] - centre[1]) < 2
    assert down[1] > centre[1] + 0.8


def test_masks_cover_what_they_claim(person):
    person = dataclasses.replace(person, hair_style="medium", hair=(0.15, 0.25, 0.9))  # blue hair
    f = frame(person, size=256, yaw=10)
    image = f.image.astype(float) / 255
    skin = np.array(person.skin)
    face_mean = image[f.masks["face"] & ~f.masks["eyes"] & ~f.masks["mouth"]].mean(0)
    assert np.abs(face_mean / face_mean.sum() - skin / skin.sum()).max() < 0.05  # skin hue
    hair_mean = image[f.masks["hair"]].mean(0)
    assert hair_mean[2] > 1.5 * hair_mean[0] and face_mean[2] < face_mean[0]
    # Eyes are bright sclera and dark iris; every eye landmark is next to the eye mask.
    assert image[f.masks["eyes"]].max() > 0.8
    ij = np.round(f.landmarks).astype(int)
    for k in RIGHT_EYE + LEFT_EYE:
        x, y = ij[k]
        assert f.masks["eyes"][y - 2 : y + 3, x - 2 : x + 3].any()
    for k in [NOSE_TIP] + MOUTH + RIGHT_EYE + LEFT_EYE:
        assert f.masks["face"][ij[k, 1], ij[k, 0]]
    assert f.visible[27:68].all()
    # The background mask is where the picture is the background image.
    bg = np.round(make_background(person, 256) * 255)
    diff = np.abs(f.image.astype(int) - bg).max(-1)
    assert diff[f.masks["background"]].mean() < 2
    assert diff[~f.masks["background"]].mean() > 20


@pytest.mark.parametrize(
    "kind, hidden, kept",
    [
        ("scarf", MOUTH, RIGHT_EYE + LEFT_EYE),
        ("mask", MOUTH, RIGHT_EYE + LEFT_EYE),
        ("dark", RIGHT_EYE + LEFT_EYE, MOUTH),
        ("goggles", RIGHT_EYE + LEFT_EYE, MOUTH),
        ("diving_mask", RIGHT_EYE + LEFT_EYE + [NOSE_TIP], MOUTH),
        ("clear", [], RIGHT_EYE + LEFT_EYE + MOUTH),
        ("beard", [CHIN], RIGHT_EYE + LEFT_EYE),
    ],
)
def test_accessories_occlude_what_they_should(person, kind, hidden, kept):
    bare = frame(person, yaw=5)
    worn = render_frame(person.wearing(kind), FaceState(yaw=5), SIZE)
    assert worn.masks["accessories"].sum() > 30
    assert bare.visible[hidden + kept].all()
    assert not worn.visible[hidden].any()
    assert worn.visible[kept].all()
    # Hidden landmarks sit on accessory pixels, and the hidden part's mask shrinks.
    ij = np.round(worn.landmarks[hidden]).astype(int)
    assert worn.masks["accessories"][ij[:, 1], ij[:, 0]].all()
    if hidden == MOUTH:
        assert worn.masks["mouth"].sum() == 0
    if kind in ("dark", "goggles", "diving_mask"):
        assert worn.masks["eyes"].sum() < 0.2 * bare.masks["eyes"].sum()


def test_hats_and_hoods_cover_the_top_of_the_head(person):
    for kind in ("hat", "hood"):
        f = render_frame(person.wearing(kind), FaceState(), SIZE)
        top = int(f.landmarks[BROWS, 1].min()) - 12
        assert f.masks["accessories"][:top].sum() > 100, kind
        assert f.visible[RIGHT_EYE + LEFT_EYE + MOUTH].all(), kind


def test_camera_effects_change_pixels_not_truth(person):
    states = talk(6, seed=1)
    clean = render_video(person, states, 64)
    noisy = render_video(person, states, 64, CameraEffects(lighting=1.0, noise=0.03, jpeg_quality=50, seed=3))
    again = render_video(person, states, 64, CameraEffects(lighting=1.0, noise=0.03, jpeg_quality=50, seed=3))
    assert all(np.array_equal(a.image, b.image) for a, b in zip(noisy, again))
    assert np.abs(clean[0].image.astype(int) - noisy[0].image).mean() > 2
    assert all(np.array_equal(a.landmarks, b.landmarks) for a, b in zip(clean, noisy))
    with pytest.raises(ConfigError, match="jpeg_quality"):
        CameraEffects(jpeg_quality=0)


def test_motion_scripts_do_what_they_say():
    fps, n = 25.0, 75
    talking = talk(n, fps, seed=2)
    assert max(s.mouth_open for s in talking) > 0.6 and min(s.mouth_open for s in talking) < 0.1
    assert np.ptp([s.pitch for s in nod(n, fps, 2)]) > 15
    assert np.ptp([s.yaw for s in shake(n, fps, 2)]) > 30
    assert np.ptp([s.yaw for s in look_around(n, fps, 2)]) > 15
    assert max(s.brow_raise for s in surprise(n, fps, 2)) > 0.9
    blinks = [s.blink for s in random_trajectory(5, 250, fps)]
    assert max(blinks) > 0.9 and np.mean(blinks) < 0.2  # blinks happen, briefly


def test_random_motion_is_smooth():
    states = random_trajectory(9, 200)
    for name in ("yaw", "pitch", "roll", "tx", "scale", "smile", "brow_raise", "gaze_x"):
        curve = np.array([getattr(s, name) for s in states])
        step = np.abs(np.diff(curve)).max()
        span = np.ptp(curve)
        assert span > 0 and step < 0.25 * span, name


def test_out_of_range_states_are_clipped_and_off_frame_points_hidden(person):
    f = frame(person, yaw=200, ty=0.3, scale=1.5)
    assert f.pose[0] == 60 and f.pose[5] == 1.5
    below = f.landmarks[:, 1] > SIZE - 1
    assert below.any() and not f.visible[below].any()


def test_bad_settings_raise_clear_errors(person):
    with pytest.raises(ConfigError, match="size"):
        render_frame(person, FaceState(), 16)
    with pytest.raises(ConfigError, match="accessory_rate"):
        Identity.sample(0, accessory_rate=1.5)
    with pytest.raises(ConfigError, match="unknown accessory"):
        person.wearing("cape")
    with pytest.raises(ConfigError, match="frames"):
        talk(0)

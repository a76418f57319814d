"""Face finding, cropping and pasting back, on the real photos in ../shared/data/real/."""

from __future__ import annotations

import numpy as np
import pytest

from deepfakelab.errors import DeepfakeLabError
from deepfakelab import faces
from deepfakelab.faces import Face, NoFaceError
from deepfakelab.media import read_photo


@pytest.mark.parametrize("name", ["s12.jpg", "s9.jpg", "d8.jpg", "d19.jpg"])
def test_faces_found_on_real_photos(real_data, name):
    photo, _ = read_photo(real_data / name)
    face, note = faces.largest_face(photo, name)
    height, width = photo.shape[:2]
    x0, y0, x1, y1 = face.box
    assert 0 <= x0 < x1 <= width + 5 and 0 <= y0 < y1 <= height + 5
    assert face.score > 0.9 and note is None
    # Landmarks lie inside the face box, eyes above the mouth.
    assert np.all((face.landmarks >= face.box[:2] - 2) & (face.landmarks <= face.box[2:] + 2))
    assert face.landmarks[:2, 1].mean() < face.landmarks[3:, 1].mean()


def test_dog_photo_gets_the_no_face_message(real_data):
    photo, _ = read_photo(real_data / "s33.jpg")
    with pytest.raises(NoFaceError, match="s33.jpg: no face found") as info:
        faces.largest_face(photo, "s33.jpg")
    assert isinstance(info.value, DeepfakeLabError)


def test_several_faces_pick_the_largest_and_say_so(real_data):
    big, _ = read_photo(real_data / "d8.jpg")  # 720 x 720
    small, _ = read_photo(real_data / "s12.jpg")  # 375 x 500
    canvas = np.full((720, 720 + 375, 3), 128, np.uint8)
    canvas[:, :720] = big
    canvas[110:610, 720:] = small
    face, note = faces.largest_face(canvas, "group.jpg")
    assert note == "group.jpg: 2 faces found; using the largest"
    assert face.box[2] < 720  # the big face, on the left


def _face(box):
    box = np.asarray(box, dtype=float)
    marks = np.tile(box[:2] + (box[2:] - box[:2]) / 2, (5, 1))
    return Face(box, 0.99, marks)


def test_stable_box_ignores_jitter_and_a_spurious_detection():
    rng = np.random.default_rng(0)
    true_box = np.array([100.0, 120.0, 200.0, 240.0])
    per_frame = [[_face(true_box + rng.normal(0, 2, 4))] for _ in range(30)]
    clean = faces.stable_box(per_frame)
    per_frame[12] = [_face(true_box + 150)]  # one wrong detection, far away
    per_frame[20] = []  # and a frame without a face
    box = faces.stable_box(per_frame)
    assert np.abs(box - clean).max() < 8  # the outlier did not stretch the box
    side = box[2] - box[0]
    assert side == pytest.approx(box[3] - box[1])  # square
    assert side == pytest.approx(1.8 * 120, rel=0.1)  # margin: 1.8x the face
    assert box[0] < 100 and box[2] > 200 and box[1] < 120 and box[3] > 240  # contains the face


def test_stable_box_without_any_face_names_the_video():
    with pytest.raises(NoFaceError, match="clip.mp4: no face found in any of its 3 frames"):
        faces.stable_box([[], [], []], name="clip.mp4")


def test_crop_and_paste_back_round_trip(real_data):
    photo, _ = read_photo(real_data / "s12.jpg")
    face, _ = faces.largest_face(photo, "s12.jpg")
    box = faces.crop_box(faces.square_box(face.box, faces.DEFAULT_CROP_SCALE), photo.shape, keep=face.box)
    crop = faces.crop(photo, box, 256)
    assert crop.shape == (256, 256, 3)
    pasted = faces.paste_back(photo, crop, box)
    assert pasted.shape == photo.shape
    x0, y0, x1, y1 = (int(v) for v in face.box)  # the face interior comes back nearly unchanged
    assert np.abs(pasted[y0:y1, x0:x1].astype(int) - photo[y0:y1, x0:x1]).mean() < 6
    # Landmarks map into the crop where the face is.
    marks = faces.to_crop_coordinates(face.landmarks, box, 256)
    assert np.all((marks > 40) & (marks < 216))


def test_crop_box_is_moved_inside_or_shrunk_never_below_the_face():
    shape = (100, 200, 3)
    assert faces.crop_box([-50, 0, 50, 100], shape).tolist() == [0, 0, 100, 100]  # moved right
    assert faces.crop_box([150, 40, 250, 140], shape).tolist() == [100, 0, 200, 100]  # moved up-left
    assert faces.crop_box([0, -100, 300, 200], shape, keep=[70, 20, 130, 80]).tolist() == [50, 0, 150, 100]
    too_small = faces.crop_box([0, -100, 300, 200], shape, keep=[40, 0, 160, 100])  # the face is 120 px
    assert too_small.tolist() == [40, -10, 160, 110] and faces.leaves_image(too_small, shape)


def test_a_crop_padded_by_reflection_has_no_streaks():
    image = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    crop = faces.crop(image, [-20, -20, 100, 100], 120)
    assert np.array_equal(crop[20:80, 20:100], image)
    assert np.array_equal(crop[19, 20:100], image[1]) and np.array_equal(crop[:, 19], crop[:, 21])
    assert not _repeated_edge(crop)


def _repeated_edge(image: np.ndarray, depth: float = 0.3) -> bool:
    """Whether two neighbouring rows or columns within ``depth`` of any edge are identical."""
    k = max(int(depth * image.shape[0]), 2)
    rows = [image[i] for i in [*range(k), *range(image.shape[0] - k, image.shape[0])]]
    cols = [image[:, j] for j in [*range(k), *range(image.shape[1] - k, image.shape[1])]]
    same = lambda lines: any(np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(lines, lines[1:]))  # noqa: E731
    return same(rows[:k]) or same(rows[k:]) or same(cols[:k]) or same(cols[k:])


@pytest.mark.parametrize("edge", ["left", "right", "top", "bottom"])
def test_a_face_near_each_edge_is_cropped_without_streaks(edge):
    """A synthetic head at the edge of a textured photo: the reenactment's crop repeats no edge."""
    from deepfakelab.heads.identity import Identity
    from deepfakelab.heads.render import render_frame
    from deepfakelab.heads.state import FaceState
    from deepfakelab.reenact.pipeline import prepare_source

    head = render_frame(Identity.sample(7, accessory_rate=0.0), FaceState(), 192).image
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 255, (320, 320, 3), dtype=np.uint8)
    offset = {"left": (64, -40), "right": (64, 168), "top": (-40, 64), "bottom": (168, 64)}[edge]
    y, x = offset
    ys, xs = slice(max(y, 0), min(y + 192, 320)), slice(max(x, 0), min(x + 192, 320))
    photo[ys, xs] = head[ys.start - y : ys.stop - y, xs.start - x : xs.stop - x]
    source = prepare_source(photo, f"head-{edge}.png", 128, 1.8)
    assert not faces.leaves_image(source.box, photo.shape)
    assert source.box[0] >= 0 and source.box[1] >= 0 and source.box[2] <= 320 and source.box[3] <= 320
    assert not _repeated_edge(source.crop)


def test_a_photo_too_small_for_the_crop_is_mirrored_and_says_so():
    from deepfakelab.heads.identity import Identity
    from deepfakelab.heads.render import render_frame
    from deepfakelab.heads.state import FaceState
    from deepfakelab.reenact.pipeline import prepare_source

    head = render_frame(Identity.sample(7, accessory_rate=0.0), FaceState(), 256).image
    face, _ = faces.largest_face(head, "head")
    x0, y0, x1, y1 = (int(v) for v in face.box)
    tight = np.ascontiguousarray(head[max(y0 - 4, 0) : y1 + 4, max(x0 - 4, 0) : x1 + 4])
    source = prepare_source(tight, "tight.png", 128, 1.8)
    assert faces.leaves_image(source.box, tight.shape)
    assert any("tight.png: the photo is too small around the face" in note for note in source.notes)
    assert not _repeated_edge(source.crop, depth=0.15)


def test_normalized_landmarks_ignore_position_and_size():
    marks = np.array([[30.0, 40.0], [60.0, 40.0], [45.0, 55.0], [35.0, 70.0], [55.0, 70.0]])
    moved = marks * 2.5 + [100, -20]
    assert np.allclose(faces.normalized_landmarks(marks), faces.normalized_landmarks(moved))


def test_best_frame_is_the_one_posed_like_the_source(real_data):
    import cv2

    crops = []
    for name in ("d8.jpg", "d19.jpg", "s12.jpg"):
        photo, _ = read_photo(real_data / name)
        face, _ = faces.largest_face(photo, name)
        crops.append(faces.crop(photo, faces.crop_box(faces.square_box(face.box, 1.8), photo.shape), 192))
    source = crops[2]
    turned = cv2.warpAffine(
        source, cv2.getRotationMatrix2D((96, 96), 25, 1.0), (192, 192), borderMode=cv2.BORDER_REFLECT
    )
    # Candidates: other people, the source turned by 25 degrees, and the source shifted (same pose).
    shifted = np.roll(source, (6, -5), axis=(0, 1))
    driving = [crops[0], turned, crops[1], shifted]
    assert faces.find_best_frame(source, driving) == 3

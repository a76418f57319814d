"""Crop geometry (30 % margin, square, resize) and MTCNN on the real photos."""

from __future__ import annotations

import numpy as np
import pytest

from deepfakelab.faces.cropper import FaceCropper, crop_square, paste_back, square_crop_box
from deepfakelab.media.video import read_image


def test_square_box_has_30_percent_margin_each_side():
    # a 100 x 80 box centred on (150, 140)
    left, top, right, bottom = square_crop_box((100, 100, 200, 180), margin=0.3)
    assert right - left == bottom - top == 160  # max(100, 80) * 1.6
    assert (left + right) / 2 == 150 and (top + bottom) / 2 == 140


def test_crop_outside_the_frame_is_black_and_resized():
    frame = np.full((100, 100, 3), 200, np.uint8)
    crop = crop_square(frame, (-50, 0, 50, 100), size=32)
    assert crop.shape == (32, 32, 3)
    assert crop[:, :14].max() == 0 and crop[:, 18:].min() == 200


def test_paste_back_inverts_the_crop_geometry():
    crop_map = np.zeros((32, 32), np.float32)
    crop_map[:16] = 1.0  # top half of the crop
    frame_map = paste_back((100, 120), (20, 10, 84, 74), crop_map)
    assert frame_map.shape == (100, 120)
    assert frame_map[20, 50] == pytest.approx(1.0) and frame_map[60, 50] == 0.0
    assert frame_map[5, 50] == 0.0 and frame_map[20, 100] == 0.0


@pytest.fixture(scope="module")
def cropper():
    return FaceCropper(size=96)


@pytest.mark.parametrize("name", ["s12.jpg", "d8.jpg", "d19.jpg"])
def test_mtcnn_crops_real_faces(real_data, cropper, name):
    image = read_image(real_data / name)
    crop = cropper.crop(image)
    assert crop is not None and crop.image.shape == (96, 96, 3)
    x0, y0, x1, y1 = crop.box
    left, top, right, bottom = crop.crop_box
    assert right - left == bottom - top
    assert left < x0 < x1 < right and top < y0 < y1 < bottom
    assert crop.confidence > 0.9


def test_no_face_is_reported_as_none(real_data, cropper):
    assert cropper.crop(read_image(real_data / "s33.jpg")) is None  # a dog

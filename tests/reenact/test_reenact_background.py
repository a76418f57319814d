"""The mesh warp's background layer (reenact/background.py): the person matte and the background plate."""

from __future__ import annotations

import numpy as np
import pytest

from deepfakelab.faces.mesh import FaceMesh
from deepfakelab.faces.regions import region_mask
from deepfakelab.heads import FaceState, Identity, render_frame
from deepfakelab.reenact.background import background_plate, person_matte

SIZE = 256


@pytest.fixture(scope="module")
def head():
    image = render_frame(Identity.sample(1, accessory_rate=0.0), FaceState(), size=SIZE).image
    return image, FaceMesh().detect(image).points


def test_the_matte_holds_the_face_and_leaves_the_corners(head):
    image, points = head
    matte = person_matte(image, points)
    assert matte is not None and matte.shape == (SIZE, SIZE) and matte.dtype == np.float32
    face = region_mask(points, "face_oval", (SIZE, SIZE)) > 0.5
    assert matte[face].min() == 1.0
    assert matte[:20, :20].max() < 0.05 and matte[:20, -20:].max() < 0.05  # the wall above the shoulders


def test_the_plate_fills_the_person_and_keeps_the_rest(head):
    image, points = head
    matte = person_matte(image, points)
    plate = background_plate(image, matte, points)
    assert plate.shape == image.shape and plate.dtype == np.uint8
    face = region_mask(points, "face_oval", (SIZE, SIZE)) > 0.5
    wall = image[:20, :20].reshape(-1, 3).mean(axis=0)
    # the face is gone: the plate there is nearer the wall's colour than the face's
    assert np.abs(plate[face].mean(axis=0) - wall).mean() < np.abs(image[face].mean(axis=0) - wall).mean()
    far = matte < 0.01
    np.testing.assert_array_equal(
        plate[far][:1000], image[far][:1000]
    )  # far from the person: the photo itself


def test_a_photo_that_is_all_face_has_no_background_layer(head):
    image, points = head
    oval = points[:, :2]
    x0, y0 = np.floor(oval.min(axis=0)).astype(int) + 10
    x1, y1 = np.ceil(oval.max(axis=0)).astype(int) - 10
    tight = np.ascontiguousarray(image[y0:y1, x0:x1])
    assert person_matte(tight, points - [x0, y0, 0]) is None

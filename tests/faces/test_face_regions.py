"""Face regions from the mesh, on scikit-image's astronaut and real photos in ../shared/data/real/."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from deepfakelab.faces.drawing import draw_mesh
from deepfakelab.faces.mesh import FaceMesh
from deepfakelab.faces.regions import (
    REGIONS,
    eye_opening,
    mouth_opening,
    region_mask,
    region_masks,
    region_polygon,
)
from deepfakelab.media.photo import read_photo


@pytest.fixture(scope="module")
def face_mesh():
    return FaceMesh()


def _photo(real_data, name):
    if name == "astronaut":
        return np.ascontiguousarray(skimage.data.astronaut())
    return read_photo(real_data / name)[0]


@pytest.mark.parametrize("name", ["astronaut", "s12.jpg", "d19.jpg"])
def test_region_masks_are_where_the_face_is(real_data, face_mesh, name):
    photo = _photo(real_data, name)
    mesh = face_mesh.detect(photo, name)
    masks = region_masks(mesh.points, photo.shape)
    assert set(masks) == set(REGIONS)
    oval = masks["face_oval"] > 0
    area = oval.sum()
    for region, mask in masks.items():
        assert mask.dtype == np.float32 and mask.min() >= 0 and mask.max() <= 1
        assert (mask > 0.5).sum() > 0, f"{name}: {region} is empty"
        outside = ((mask > 0.5) & ~oval).sum()
        assert outside <= 0.01 * (mask > 0.5).sum(), f"{name}: {region} leaves the face oval"
        if region != "face_oval":
            assert (mask > 0.5).sum() < 0.2 * area, f"{name}: {region} is as big as the face"

    def centre(region):
        ys, xs = np.nonzero(masks[region] > 0.5)
        return xs.mean(), ys.mean()

    # eyes above the mouth, brows above the eyes, left (in the image) left of right
    for side in ("left", "right"):
        assert centre(f"{side}_brow")[1] < centre(f"{side}_eye")[1] < centre("lips")[1]
    assert centre("left_eye")[0] < centre("right_eye")[0]
    assert centre("left_brow")[0] < centre("right_brow")[0]
    # the lips are a ring around the inner mouth: they do not overlap it
    assert ((masks["lips"] > 0.5) & (masks["inner_mouth"] > 0.5)).sum() == 0


def test_open_mouth_is_measured_open(real_data, face_mesh):
    wide = face_mesh.detect(_photo(real_data, "d19.jpg"), "d19.jpg")  # a wide open mouth
    smile = face_mesh.detect(_photo(real_data, "astronaut"), "astronaut")  # lips parted in a smile
    assert mouth_opening(wide.points) > 0.4 > 0.25 > mouth_opening(smile.points)  # measured 0.56, 0.17
    for eyes in (eye_opening(wide.points), eye_opening(smile.points)):
        assert all(0.2 < ratio < 0.5 for ratio in eyes)  # open eyes (measured 0.30-0.36)


def test_polygons_and_masks_follow_the_points():
    # a toy "mesh": every point on a circle except the regions' own points placed by hand
    points = np.zeros((468, 2))
    square = np.array([[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0]])
    loop = REGIONS["inner_mouth"]
    points[list(loop)] = np.repeat(square, len(loop) // 4 + 1, axis=0)[: len(loop)]
    polygon = region_polygon(points, "inner_mouth")
    assert polygon.shape == (len(loop), 2)
    mask = region_mask(points, "inner_mouth", (40, 40))
    assert mask[20, 20] == 1 and mask[5, 5] == 0 and 350 < mask.sum() < 450  # about 20 x 20
    soft = region_mask(points, "inner_mouth", (40, 40), feather=2.0)
    assert 0 < soft[10, 20] < 1 and soft.sum() == pytest.approx(mask.sum(), rel=0.05)
    with pytest.raises(KeyError, match="unknown face region 'nose'"):
        region_polygon(points, "nose")


def test_draw_mesh_marks_the_face_and_nothing_else(face_mesh):
    photo = np.ascontiguousarray(skimage.data.astronaut())
    mesh = face_mesh.detect(photo)
    drawn = draw_mesh(photo, mesh.points)
    changed = np.any(drawn != photo, axis=2)
    oval = region_mask(mesh.points, "face_oval", photo.shape) > 0
    grown = (
        cv2.dilate(oval.astype(np.uint8), np.ones((11, 11), np.uint8)) > 0
    )  # a few points sit just outside
    assert changed[oval].mean() > 0.2  # the mesh is visible on the face
    assert not changed[~grown].any()  # and drawn nowhere else
    assert np.array_equal(draw_mesh(photo, None), photo) and drawn is not photo

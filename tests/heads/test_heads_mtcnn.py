"""A real face detector (MTCNN, weights shipped in facenet-pytorch) must see the synthetic heads."""

from __future__ import annotations

import pytest
import torch

from deepfakelab.heads import Identity, random_trajectory, render_frame


@pytest.fixture(scope="module")
def mtcnn():
    facenet = pytest.importorskip("facenet_pytorch")
    torch.set_num_threads(1)
    return facenet.MTCNN(keep_all=False, device="cpu")


def test_mtcnn_finds_accessory_free_faces_where_the_landmarks_are(mtcnn):
    from PIL import Image

    found = 0
    for k in range(20):
        identity = Identity.sample(5000 + k, accessory_rate=0.0)
        frame = render_frame(identity, random_trajectory(k, 30)[k], 128)
        boxes, _ = mtcnn.detect(Image.fromarray(frame.image))
        if boxes is None:
            continue
        found += 1
        # The detected box contains the face's landmarks' centre.
        x0, y0, x1, y1 = boxes[0]
        cx, cy = frame.landmarks[27:48].mean(0)
        assert x0 < cx < x1 and y0 < cy < y1
    assert found / 20 >= 0.9

"""``reenact-eval --real-videos``: the FOMM paper's reconstruction protocol on real videos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deepfakelab.cli import main
from deepfakelab.faces.identity import identity_available
from deepfakelab.reenact.fomm.checkpoint import SHIPPED_WEIGHTS
from deepfakelab.reenact.pipeline import __file__ as pipeline_file
from deepfakelab.faces.regions import FACE_OVAL, INNER_LIPS, region_mask
from deepfakelab.reenact.real_evaluation import (
    MOUTH_MIN_PIXELS,
    ClipScores,
    identity_ranges,
    open_mouth,
    seam_band,
    summarize,
)

SHIPPED = Path(pipeline_file).resolve().parents[1] / SHIPPED_WEIGHTS


@pytest.fixture()
def two_real_videos(real_data, tmp_path):
    """A folder with two short real clips of two persons (links to the shared files, no copies)."""
    folder = tmp_path / "real"
    folder.mkdir()
    for name in ("vox_dpe_s.mp4", "d18.mp4"):
        (folder / name).symlink_to(real_data / name)
    return folder


def test_every_row_on_two_real_videos(two_real_videos, tmp_path, capsys):
    out = tmp_path / "scores.json"
    assert (
        main(
            [
                "reenact-eval",
                "--real-videos",
                str(two_real_videos),
                "--frames",
                "6",
                "--checkpoint",
                str(SHIPPED),
                "--size",
                "64",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    scores = json.loads(out.read_text())
    methods = scores["methods"]
    assert list(methods) == ["zero-motion", "landmark-warp", "mesh-warp", "fomm"]
    assert all(row["videos"] == 2 for row in methods.values())
    assert set(scores["videos"]) == {"vox_dpe_s.mp4", "d18.mp4"}
    # the mesh warp reproduces the true frames better than leaving the source still
    assert methods["mesh-warp"]["akd_px"] < methods["zero-motion"]["akd_px"]
    assert methods["mesh-warp"]["l1"] < methods["zero-motion"]["l1"]
    for name in methods:
        assert name in printed
    assert "mouth L1" in printed and "seam L1" in printed
    for (
        row
    ) in methods.values():  # the mouth and the seam band, beside the face (mouth: where a clip opens it)
        assert 0 < row["seam_l1"] < 1 and (row["mouth_l1"] is None or 0 < row["mouth_l1"] < 1)
    for clip in scores["videos"].values():
        assert clip["mesh-warp"]["mouth_frames"] == clip["zero-motion"]["mouth_frames"]
    if identity_available():
        assert all(row["aed"] is not None for row in methods.values())
        ranges = scores["identity_ranges"]
        assert ranges["same clip"]["pairs"] == 2 * 5 and ranges["different persons"]["pairs"] == 1
        # two persons lie farther apart than frames of one clip
        assert ranges["different persons"]["min"] > ranges["same clip"]["max"]
    else:
        assert all(row["aed"] is None for row in methods.values())
        assert "AED skipped" in printed


def test_identity_ranges_split_pairs_by_person():
    def clip(name, vector, same):
        return ClipScores(name, 3, {}, same, np.asarray(vector, float))

    clips = [clip("a.mp4", [0, 0], [0.1, 0.2]), clip("b.mp4", [0.3, 0], [0.05]), clip("c.mp4", [0, 1], [])]
    ranges = identity_ranges(clips, same_person=[["a.mp4", "b.mp4"]])
    assert ranges["same clip"] == {"min": 0.05, "median": 0.1, "max": 0.2, "pairs": 3}
    assert ranges["same person, other clip"]["max"] == pytest.approx(0.3)
    assert ranges["different persons"]["pairs"] == 2
    assert ranges["different persons"]["min"] == pytest.approx(1.0)


def test_summary_averages_videos_alike():
    clips = [
        ClipScores(
            "a", 10, {"mesh-warp": {"l1": 0.1, "akd_px": 1.0, "aed": None, "mouth_l1": None, "seam_l1": 0.02}}
        ),
        ClipScores(
            "b", 30, {"mesh-warp": {"l1": 0.3, "akd_px": 3.0, "aed": None, "mouth_l1": 0.2, "seam_l1": 0.04}}
        ),
    ]
    assert summarize(clips)["mesh-warp"] == {
        "l1": pytest.approx(0.2),
        "akd_px": pytest.approx(2.0),
        "aed": None,
        "mouth_l1": pytest.approx(0.2),
        "mouth_videos": 1,
        "seam_l1": pytest.approx(0.03),
        "videos": 2,
    }


def test_the_mouth_counts_where_it_is_open_and_the_seam_band_rings_the_oval(source_mesh_points):
    points = source_mesh_points
    shape = (256, 256)
    assert open_mouth(points, shape) is None  # the synthetic head's closed mouth
    band, face = seam_band(points, shape), region_mask(points, "face_oval", shape) > 0.5
    assert band.sum() > 1000 and (band & face).any() and (band & ~face).any()
    oval = points[list(FACE_OVAL), :2]
    centre = np.round(oval.mean(axis=0)).astype(int)
    assert not band[centre[1], centre[0]]  # the face's middle is not in the band
    opened = points.copy()
    opened[list(INNER_LIPS[6:15]), 1] += 12  # the lower lip's inner edge (324 ... 95) drops 12 px
    mouth = open_mouth(opened, shape)
    assert mouth is not None and mouth.sum() >= MOUTH_MIN_PIXELS


@pytest.fixture(scope="module")
def source_mesh_points():
    from deepfakelab.faces.mesh import FaceMesh
    from deepfakelab.heads import FaceState, Identity, render_frame

    return (
        FaceMesh()
        .detect(render_frame(Identity.sample(1, accessory_rate=0.0), FaceState(), size=256).image)
        .points
    )


def test_a_folder_without_videos_is_one_line(tmp_path, capsys):
    assert main(["reenact-eval", "--real-videos", str(tmp_path)]) == 2
    assert "no .mp4 videos in this folder" in capsys.readouterr().err

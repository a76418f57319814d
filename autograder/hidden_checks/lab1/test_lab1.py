"""Hidden checks of Lab 1 (``lab1``). Never given to students.

Each check decides one graded cell (``@pytest.mark.grade``). Function checks call the student's
definitions on inputs the visible checks do not use (in the sandbox; arguments and results cross
as data). Artifact checks also redo part of the work with the student's own functions (the
reenactment, the first frame of each video, the scores), so artifacts made with the kit's
helpers instead score nothing. Artifact checks recompute what a correct
notebook produces from the same inputs with the kit's own code -- the reenactment (FOMM or the
mesh warp, chosen as the notebook chooses: :func:`deepfakelab.labs.lab1.media.choose_reenactment`),
the decoder, the shipped detector, Grad-CAM -- and compare within tolerances. The inputs are the
course's media pack (``<course>/media/lab1/``, found from the course folder the grader
names with ``--dfl-hide``: the folder the sandbox hides), never the student's copy; without a
pack, the synthetic media :mod:`deepfakelab.labs.lab1.notebook` draws from fixed seeds. The
student's own photos and video are checked like the others, so no check counts videos. The videos and images a
notebook wrote are decoded in a sandbox (:func:`~deepfakelab.course.sandbox.sandboxed_media.media_files`),
never by this process. Assertion messages are what the student reads.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch

from deepfakelab.labs.lab1 import media as lab1_media, notebook as lab1
from deepfakelab.course.artifacts import ArtifactError, load_array, load_json, number
from deepfakelab.course.grading.hidden import student_function
from deepfakelab.course.sandbox.sandboxed_media import media_files

torch.set_num_threads(1)
# Captured before any student code is loaded, so a patched numpy or torch function cannot help.
allclose, mean_abs = (
    np.allclose,
    (lambda a, b: float(np.abs(np.asarray(a, float) - np.asarray(b, float)).mean())),
)


@pytest.fixture(scope="session")
def media(pytestconfig) -> lab1_media.Lab1Media:
    """The course's media (its pack, else the synthetic media): what the notebook was released with."""
    roots = pytestconfig.getoption("--dfl-hide") or [
        None
    ]  # the grader hides the course folder, and names it first
    return lab1_media.course_media(roots[0])


def expected_videos(media) -> list[str]:
    """The videos every notebook of this course lists: the fakes of the hard cases and of the first own
    photo, and the course's real videos (a student's further photos and own video come on top)."""
    return [*media.photos, lab1_media.OWN_PHOTO, *(f"real_{name}" for name in media.videos)]


def _own(name: str) -> bool:
    """A video of the student's own media (``my_photo_2``..., ``real_my_video``), checked like the rest."""
    own_photo = (
        name.startswith(lab1_media.OWN_PHOTO + "_") and name[len(lab1_media.OWN_PHOTO) + 1 :].isdigit()
    )
    return own_photo or name == f"real_{lab1_media.OWN_VIDEO}"


def _inside(artifacts: Path, relative: str, what: str) -> Path:
    """``relative`` resolved under the notebook's folder; a path leading elsewhere is refused."""
    base = artifacts.resolve().parent
    path = (base / relative).resolve() if not Path(relative).is_absolute() else Path(relative).resolve()
    if base not in path.parents:
        raise ArtifactError(f"{what}: {relative} is outside the notebook's folder")
    return path


def _video_frames(path: Path, indices=None) -> dict[int, np.ndarray]:
    if not path.is_file():
        raise ArtifactError(f"{path.name}: not found; run the cell that writes it and submit again")
    return media_files().frames(path, set(indices) if indices else None)


def _image(path: Path) -> np.ndarray:
    if not path.is_file():
        raise ArtifactError(f"{path.name}: not found; run the cell that saves the frames and submit again")
    return media_files().image(path)


@lru_cache(maxsize=1)
def _detector():
    from deepfakelab.faces.cropper import FaceCropper
    from deepfakelab.detect.inference import load_detector

    model, config = load_detector()
    return model, FaceCropper(size=config.size)


def _saved_frames(artifacts: Path, media) -> dict[str, dict]:
    """frames.json, checked to be what the extraction cell writes: per video its path, indices, files.

    Every video of the course must be there; the student's own come on top; nothing else counts.
    """
    listing = load_json(artifacts / "frames.json", dict)
    missing = [name for name in expected_videos(media) if name not in listing]
    if missing:
        raise ArtifactError(
            f"frames.json: no frames of {missing}; run the frame extraction cell for every video"
        )
    listing = {name: entry for name, entry in listing.items() if name in expected_videos(media) or _own(name)}
    for name in listing:
        entry = listing[name]
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("video"), str)
            and isinstance(entry.get("files"), list)
            and isinstance(entry.get("indices"), list)
            and len(entry["files"]) == len(entry["indices"])
            and all(isinstance(f, str) for f in entry["files"])
        ):
            raise ArtifactError(f"frames.json: the entry of {name} is not what the extraction cell writes")
        entry["indices"] = [int(number(i, f"frames.json: {name}", 0, 100_000)) for i in entry["indices"]]
    return listing


def _crop_and_score(frame: np.ndarray, video: str, media):
    """The lab's face crop of ``frame`` and the shipped detector's logits on it (None without a face)."""
    from deepfakelab.detect.model import to_tensor

    model, cropper = _detector()
    crop, _ = lab1.detector_crop(cropper, frame, media.face_box(video))
    if crop is None:
        return None, None
    with torch.no_grad():
        return crop, model(to_tensor([crop]))[0]


@pytest.mark.grade("check_relative_motion")
def test_relative_motion(student):
    keypoints = student_function(student, "relative_keypoints")
    jacobians = student_function(student, "relative_jacobians")
    gen = torch.Generator().manual_seed(5)
    source, initial = torch.rand(10, 2, generator=gen) * 2 - 1, torch.rand(10, 2, generator=gen) * 2 - 1
    driving = torch.rand(3, 10, 2, generator=gen) * 2 - 1
    expected = source + 0.7 * (driving - initial)
    got = torch.as_tensor(keypoints(source, driving, initial, 0.7), dtype=torch.float32)
    assert tuple(got.shape) == (3, 10, 2), (
        f"relative_keypoints on 3 frames of 10 keypoints must give (3, 10, 2), got {tuple(got.shape)}"
    )
    if allclose(got.numpy(), (source - 0.7 * (driving - initial)).numpy(), atol=1e-5):
        pytest.fail(
            "relative_keypoints moves the source the wrong way: the sign of (kp_driving - kp_initial) is flipped"
        )
    assert allclose(got.numpy(), expected.numpy(), atol=1e-5), (
        "relative_keypoints differs from kp_source + scale * (kp_driving - kp_initial) on random keypoints (scale 0.7)"
    )
    j_source = torch.eye(2) + 0.3 * torch.randn(10, 2, 2, generator=gen)
    j_initial = torch.eye(2) + 0.3 * torch.randn(10, 2, 2, generator=gen)
    j_driving = torch.eye(2) + 0.3 * torch.randn(3, 10, 2, 2, generator=gen)
    expected_j = j_driving @ torch.linalg.inv(j_initial) @ j_source
    got_j = torch.as_tensor(jacobians(j_source, j_driving, j_initial), dtype=torch.float32)
    assert tuple(got_j.shape) == (3, 10, 2, 2), (
        f"relative_jacobians must give (3, 10, 2, 2), got {tuple(got_j.shape)}"
    )
    if allclose(got_j.numpy(), (j_source @ torch.linalg.inv(j_initial) @ j_driving).numpy(), atol=1e-4):
        pytest.fail(
            "relative_jacobians multiplies in the wrong order: matrix products do not commute; "
            "use jac_driving @ inverse(jac_initial) @ jac_source"
        )
    assert allclose(got_j.numpy(), expected_j.numpy(), atol=1e-4), (
        "relative_jacobians differs from jac_driving @ inverse(jac_initial) @ jac_source on random Jacobians"
    )


def _students_transfer(student):
    """The lab's motion transfer (the locked ``my_motion_transfer``) with the student's functions, called in the sandbox."""
    from deepfakelab.reenact.fomm.keypoints import Keypoints
    from deepfakelab.reenact.fomm.motion_transfer import movement_scale

    keypoints = student_function(student, "relative_keypoints")
    jacobians = student_function(student, "relative_jacobians")

    def transfer(kp_source, kp_driving, kp_initial):
        scale = movement_scale(kp_source, kp_initial)
        value = keypoints(kp_source.value[0], kp_driving.value, kp_initial.value[0], scale)
        jacobian = jacobians(kp_source.jacobian[0], kp_driving.jacobian, kp_initial.jacobian[0])
        return Keypoints(
            torch.as_tensor(value, dtype=torch.float32), torch.as_tensor(jacobian, dtype=torch.float32)
        )

    return transfer


@pytest.mark.grade("check_reenactment")
def test_reenactment(artifacts, student, media):
    model = lab1_media.load_fomm(media)
    driving = media.driving_frames()
    for name in media.photos:
        method = lab1_media.choose_reenactment(media, name).method
        motion = load_array(
            artifacts / f"reenacted_{name}.npy", ndim=3 if method == lab1_media.MESH_WARP else 4
        )
        reference = lab1_media.reenact(media, name, driving, model)
        assert motion.shape == reference.motion.shape, (
            f"reenacted_{name}.npy: expected {reference.motion.shape} ({method}), found {motion.shape}"
        )
        difference = mean_abs(motion, reference.motion)
        if method == lab1_media.MESH_WARP:
            assert difference < 0.05, (
                f"{name}: the mesh points moved differently from the mesh warp of the course's "
                f"media (by {difference:.2f} pixels on average): reenact with the cell provided"
            )
            # The mesh warp moves each mesh point by the driving face's motion since the initial frame:
            # your relative_keypoints must do that to the 468 points of this photo's mesh.
            mesh = reference.mesh
            source, moving = mesh.source_points[:, :2], mesh.driving_points[..., :2]
            initial = moving[mesh.initial]
            got = np.asarray(
                student_function(student, "relative_keypoints")(
                    torch.as_tensor(source, dtype=torch.float64),
                    torch.as_tensor(moving, dtype=torch.float64),
                    torch.as_tensor(initial, dtype=torch.float64),
                    1.0,
                ),
                dtype=float,
            )
            assert got.shape == moving.shape and allclose(got, source + (moving - initial), atol=1e-3), (
                f"{name}: your relative_keypoints does not move the photo's 468 mesh points by the driving face's "
                f"motion since frame {mesh.initial}: check the sign of (kp_driving - kp_initial)"
            )
        else:
            assert difference < 0.5, (
                f"{name}: your reenactment differs from FOMM's relative motion by {difference:.1f} grey levels on average: "
                "the face moves differently; check the sign and the scale of the motion in relative_keypoints "
                "and the order of the products in relative_jacobians"
            )
            # ... and it is the one your functions make (crops made with the kit's own motion transfer are not yours)
            yours = lab1_media.reenact(media, name, driving, model, _students_transfer(student))
            assert mean_abs(motion, yours.motion) < 0.5, (
                f"reenacted_{name}.npy is not what your relative_keypoints and relative_jacobians make: reenact with the cell provided"
            )
        video = artifacts / "videos" / f"{name}.mp4"
        if not video.is_file():
            raise ArtifactError(f"videos/{name}.mp4: not found; run the reenactment cell and submit again")
        assert media_files().frame_count(video) == len(driving), (
            f"videos/{name}.mp4 should have {len(driving)} frames"
        )
        assert "synthetic" in " ".join(media_files().metadata(video).values()).lower(), (
            f"videos/{name}.mp4 lost its 'synthetic' label: write videos with the kit's write_video"
        )


@pytest.mark.grade("check_my_photo")
def test_my_photo(artifacts):
    video = artifacts / "videos" / "my_photo.mp4"
    if not video.is_file():
        raise ArtifactError(
            "videos/my_photo.mp4: not found; set MY_PHOTO to a face photo and run the cell after it"
        )
    assert media_files().frame_count(video) == lab1.DRIVING_FRAMES, (
        f"videos/my_photo.mp4 should have {lab1.DRIVING_FRAMES} frames"
    )
    assert "synthetic" in " ".join(media_files().metadata(video).values()).lower(), (
        "videos/my_photo.mp4 lost its 'synthetic' label"
    )


@pytest.mark.grade("check_extract_frame")
def test_extract_frame(student):
    extract_frame = student_function(student, "extract_frame")
    video = lab1.counter_video(student.exchange / "counter9.mp4", frames=9)  # a folder the sandbox sees
    for index in (8, 4, 0, 1):
        try:
            got = lab1.counter_value(extract_frame(str(video), index))
        except IndexError:
            pytest.fail(
                f"extract_frame(video, {index}) of a 9-frame video raised IndexError, but frames 0..8 exist: "
                "frames are counted from 0"
            )
        if got == index - 1:
            pytest.fail(
                f"extract_frame(video, {index}) returned frame {got}, one too early: frame {index} is the "
                f"{index + 1}th frame decoded, because frames are counted from 0"
            )
        assert got == index, f"extract_frame(video, {index}) returned frame {got} of a 9-frame test video"
    try:
        extract_frame(str(video), 9)
    except IndexError:
        pass
    else:
        pytest.fail("extract_frame(video, 9) of a 9-frame video (frames 0..8) must raise IndexError")


def _students_frame(student, video: Path, index: int) -> np.ndarray:
    """Frame ``index`` of ``video`` by the student's extract_frame, in the sandbox (which sees only the exchange folder)."""
    import shutil

    extract_frame = student_function(student, "extract_frame")
    copy = student.exchange / f"check_{video.name}"
    if not copy.exists():
        shutil.copyfile(video, copy, follow_symlinks=False)
    return np.asarray(extract_frame(str(copy), index))


def _video_of(artifacts: Path, media, name: str, entry: dict) -> Path:
    """The file video ``name`` was taken from: the course's own copy for a real video of the pack."""
    real = name[len("real_") :] if name.startswith("real_") else None
    if not media.synthetic and real in media.videos and real != lab1_media.OWN_VIDEO:
        return Path(media.videos[real]).resolve()  # the course's own file, which a pack may link to
    return _inside(artifacts, entry["video"], f"frames.json: {name}")


@pytest.mark.grade("check_frames")
def test_frames(artifacts, student, media):
    listing = _saved_frames(artifacts, media)
    for name, entry in listing.items():
        indices = entry["indices"]
        assert indices == list(lab1.SCORE_INDICES), (
            f"{name}: frames {indices} were saved, the lab asks for {list(lab1.SCORE_INDICES)}"
        )
        video = _video_of(artifacts, media, name, entry)
        decoded = _video_frames(video, {i + d for i in indices for d in (-1, 0, 1) if i + d >= 0})
        for index, file in zip(indices, entry["files"]):
            saved = _image(_inside(artifacts, str(Path("artifacts") / file), f"frames.json: {name}"))
            distance = {
                i: mean_abs(saved, decoded[i])
                for i in (index - 1, index, index + 1)
                if i in decoded and decoded[i].shape == saved.shape
            }
            if not distance:
                pytest.fail(f"{file}: its size {saved.shape} is not the video's")
            if not (
                index in distance and distance[index] <= min(distance.values()) and distance[index] < 0.5
            ):
                best = min(distance, key=distance.get)
                assert best == index, (
                    f"{file} is frame {best} of {name}, not frame {index}: frames are counted from 0"
                )
                pytest.fail(
                    f"{file} is not frame {index} of {name} (it differs by {distance[index]:.1f} grey levels)"
                )
        # The first frame of each video again, by your extract_frame: frames taken out by other means are not yours.
        saved = _image(_inside(artifacts, str(Path("artifacts") / entry["files"][0]), f"frames.json: {name}"))
        yours = _students_frame(student, video, indices[0])
        assert yours.shape == saved.shape and mean_abs(yours, saved) < 0.5, (
            f"{entry['files'][0]} is not what your extract_frame gives for frame {indices[0]} of {name}: "
            "save the frames with the cell provided"
        )


@pytest.mark.grade("check_scores_functions")
def test_scores_functions(student):
    fake_probability = student_function(student, "fake_probability")
    video_verdict = student_function(student, "video_verdict")
    logits = torch.randn(7, 2, generator=torch.Generator().manual_seed(9)) * 3
    softmax = torch.softmax(logits, dim=1).numpy()
    got = np.asarray(fake_probability(logits.clone()), dtype=float).reshape(-1)
    assert got.shape == (7,), f"fake_probability on 7 frames must give 7 probabilities, got shape {got.shape}"
    if allclose(got, softmax[:, 0], atol=1e-5):
        pytest.fail(
            "fake_probability returns P(real): real and fake are swapped; column 1 of the softmax is fake"
        )
    assert allclose(got, softmax[:, 1], atol=1e-5), (
        "fake_probability differs from softmax(logits)[:, 1] on other logits: apply the softmax over the two logits of each frame"
    )
    probabilities = [0.31, 0.52, 0.77, 0.49]
    verdict = video_verdict(probabilities)
    assert isinstance(verdict, dict) and {"p_fake", "p_real", "label"} <= set(verdict), (
        f"video_verdict must return a dict with p_fake, p_real and label, got {verdict!r}"
    )
    assert abs(float(verdict["p_fake"]) - 0.5225) < 1e-6 and abs(float(verdict["p_real"]) - 0.4775) < 1e-6, (
        f"video_verdict({probabilities}) should give p_fake 0.5225 (the mean), p_real 0.4775; got {verdict}"
    )
    assert (
        verdict["label"] == "fake"
        and video_verdict([0.5])["label"] == "fake"
        and video_verdict([0.49])["label"] == "real"
    ), "the label is 'fake' when p_fake >= 0.5 (0.5 included), else 'real'"


@pytest.mark.grade("check_scores")
def test_scores(artifacts, student, media):
    scores = load_json(artifacts / "scores.json", dict)
    listing = _saved_frames(artifacts, media)
    logits_seen, saved_seen = [], []
    for name in listing:
        entry = scores.get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("frames"), dict):
            raise ArtifactError(f"scores.json: no scores for {name}; run the scoring cell and submit again")
        expected, swapped = [], []
        for index, file in zip(listing[name]["indices"], listing[name]["files"]):
            _, logits = _crop_and_score(
                _image(_inside(artifacts, str(Path("artifacts") / file), "frames.json")), name, media
            )
            if logits is None:
                assert str(index) not in entry["frames"], (
                    f"{name}: frame {index} has no face, yet it has a score"
                )
                continue
            p = torch.softmax(logits, dim=0).numpy()
            if str(index) not in entry["frames"]:
                pytest.fail(f"{name}: frame {index} has a face but no score in scores.json")
            got = number(entry["frames"][str(index)], f"scores.json: {name} frame {index}", 0, 1)
            expected.append(abs(got - p[1]))
            swapped.append(abs(got - p[0]))
            logits_seen.append(logits)
            saved_seen.append(got)
        if expected and max(swapped) < 1e-3 < max(expected):
            pytest.fail(
                f"{name}: the scores are the detector's P(real), not P(fake): real and fake are swapped"
            )
        assert not expected or max(expected) < 1e-3, (
            f"{name}: the scores differ from the shipped detector's P(fake) on the same frames (by up to {max(expected):.3f})"
        )
        if entry["frames"]:
            mean = float(np.mean([number(v, f"scores.json: {name}", 0, 1) for v in entry["frames"].values()]))
            p_fake = number(entry.get("p_fake"), f"scores.json: {name} p_fake", 0, 1)
            assert abs(p_fake - mean) < 1e-6, (
                f"{name}: the video's p_fake {p_fake:.4f} is not the mean of its frames ({mean:.4f})"
            )
            assert entry.get("label") == ("fake" if mean >= 0.5 else "real"), (
                f"{name}: the label does not match p_fake {mean:.2f}"
            )
    # The same logits through your fake_probability: scores computed by other means are not yours.
    if logits_seen:
        yours = np.asarray(
            student_function(student, "fake_probability")(torch.stack(logits_seen)), dtype=float
        ).reshape(-1)
        assert yours.shape == (len(saved_seen),) and np.abs(yours - np.asarray(saved_seen)).max() < 1e-3, (
            "scores.json is not what your fake_probability gives on the detector's logits: score with the cell provided"
        )


@pytest.mark.grade("check_cams")
def test_cams(artifacts, media):
    from deepfakelab.detect.explain import fake_maps
    from deepfakelab.detect.model import to_tensor

    info = load_json(artifacts / "cams.json", dict)
    shown = info.get("videos")
    if not isinstance(shown, list) or not all(isinstance(v, str) for v in shown):
        raise ArtifactError("cams.json: 'videos' is not a list of video names")
    assert len(set(shown)) >= 4, (
        f"the course asks for maps of at least four videos; cams.json has {len(set(shown))}"
    )
    cams = load_array(artifacts / "cams.npy", ndim=3)
    assert len(cams) == len(shown), f"cams.npy has {len(cams)} maps for {len(shown)} videos"
    assert cams.min() >= 0 and cams.max() <= 1, "Grad-CAM maps are in [0, 1]"
    listing = _saved_frames(artifacts, media)
    crops = []
    for name in shown:
        if name not in listing or lab1.FRAME_INDEX not in listing[name]["indices"]:
            raise ArtifactError(f"cams.json: {name} has no saved frame {lab1.FRAME_INDEX}")
        file = listing[name]["files"][listing[name]["indices"].index(lab1.FRAME_INDEX)]
        crop, _ = _crop_and_score(
            _image(_inside(artifacts, str(Path("artifacts") / file), "frames.json")), name, media
        )
        assert crop is not None, f"{name}: frame {lab1.FRAME_INDEX} has no face, so it cannot have a map"
        crops.append(crop)
    model, _ = _detector()
    reference, _ = fake_maps(model, to_tensor(crops), "gradcam")
    assert cams.shape == reference.shape, f"cams.npy has shape {cams.shape}, expected {reference.shape}"
    difference = mean_abs(cams, reference)
    assert difference < 0.01, (
        f"the maps differ from Grad-CAM of the fake logit on the same crops (mean difference {difference:.3f})"
    )
    assert (artifacts / "explanations.png").is_file(), (
        "explanations.png: not found; run the Grad-CAM cell and submit again"
    )


@pytest.mark.grade("check_overlay")
def test_overlay(student):
    import matplotlib

    overlay_cam = student_function(student, "overlay_cam")
    rng = np.random.default_rng(4)
    face = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    cam = rng.random((16, 16))
    for alpha in (0.3, 0.75):
        expected = np.round((1 - alpha) * face + alpha * matplotlib.colormaps["jet"](cam)[..., :3] * 255)
        got = np.asarray(overlay_cam(face.copy(), cam.copy(), alpha=alpha))
        assert got.shape == (16, 16, 3) and got.dtype == np.uint8, (
            f"overlay_cam must return (S, S, 3) uint8, got {got.shape} {got.dtype}"
        )
        error = np.abs(got.astype(float) - expected).max()
        assert error <= 1, (
            f"overlay_cam(face, cam, alpha={alpha}) is off by up to {error:.0f} grey levels from "
            "(1 - alpha) * face + alpha * 255 * jet(cam)[..., :3]"
        )

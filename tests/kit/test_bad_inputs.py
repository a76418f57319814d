"""Every command of the CLI over a corpus of bad inputs made here (issue #17, "Bad inputs").

Each bad input must end the command with exit code 2 and one line, ``deepfakelab: error: PATH:
problem``, naming the file once; no traceback; nothing written that looks like a result. Inputs
that are odd but usable (grayscale, transparent or huge photos, a one-frame video, a truncated
video that still decodes in part) exit 0 and say what was done about them in a note. The corpus
is synthetic heads, so this runs without ``../shared``. ``gan`` and ``course`` get their own
small corpus (configs, checkpoints, run folders, course folders, notebooks, zips, media packs),
and each of their checks must come before the work: loading bags, training, running nbgrader.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from deepfakelab.cli import main
from deepfakelab.heads import Identity, render_video, talk
from deepfakelab.media import count_frames, read_video, write_video
from deepfakelab.media.video import ffmpeg_exe
from helpers import REPO

FPS = 25.0


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("corpus")
    frames = np.stack(
        [
            f.image
            for f in render_video(
                Identity.sample(7, accessory_rate=0.0), talk(40, FPS, seed=3), 256, None, FPS
            )
        ]
    )
    files = {"folder": root / "a_folder", "not_a_folder": root / "not_a_folder"}
    files["folder"].mkdir()
    files["not_a_folder"].write_text("a plain file")
    files["photo"] = root / "head.png"
    cv2.imwrite(str(files["photo"]), frames[0][..., ::-1])
    files["driving"] = write_video(root / "head.mp4", frames[:3], FPS, label="real (synthetic head)")
    # 40 frames of video with 1.5 s of audio: the audio ends early, the video must not
    silent = write_video(root / "silent.mp4", frames, FPS, label="real (synthetic head)")
    files["with_audio"] = root / "with_audio.mp4"
    _ffmpeg(
        "-i",
        str(silent),
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=1.5",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        str(files["with_audio"]),
    )
    for name in ("empty.mp4", "empty.png"):
        files[name] = root / name
        files[name].write_bytes(b"")
    files["text.mp4"] = root / "text.mp4"
    files["text.mp4"].write_text("this is not a video\n" * 50)
    files["text.jpg"] = root / "text.jpg"
    files["text.jpg"].write_text("this is not a photo\n" * 50)
    # truncated: the index (moov atom) at the end is lost; at the front it survives and the file half-decodes
    whole = silent.read_bytes()
    files["cut_end.mp4"] = root / "cut_end.mp4"
    files["cut_end.mp4"].write_bytes(whole[: len(whole) // 2])
    front = root / "front.mp4"
    _ffmpeg("-i", str(silent), "-c", "copy", "-movflags", "+faststart", str(front))
    data = front.read_bytes()
    files["cut_front.mp4"] = root / "cut_front.mp4"
    files["cut_front.mp4"].write_bytes(data[: len(data) // 2])
    for side in (1, 8, 20):
        files[f"px{side}.png"] = root / f"px{side}.png"
        cv2.imwrite(str(files[f"px{side}.png"]), np.full((side, side, 3), 128, np.uint8))
    files["small16.mp4"] = write_video(root / "small16.mp4", np.full((3, 16, 16, 3), 128, np.uint8), FPS)
    files["one_frame.mp4"] = write_video(
        root / "one_frame.mp4", frames[:1], FPS, label="real (synthetic head)"
    )
    files["gray.png"] = root / "gray.png"
    cv2.imwrite(str(files["gray.png"]), cv2.cvtColor(frames[0], cv2.COLOR_RGB2GRAY))
    files["rgba.png"] = root / "rgba.png"
    rgba = np.dstack([frames[0][..., ::-1], np.full((256, 256), 255, np.uint8)])
    rgba[:40, :40, 3] = 0  # a transparent corner
    cv2.imwrite(str(files["rgba.png"]), rgba)
    files["huge.jpg"] = root / "huge.jpg"
    cv2.imwrite(
        str(files["huge.jpg"]), cv2.resize(frames[0][..., ::-1], (6000, 6000), interpolation=cv2.INTER_LINEAR)
    )
    return files


@pytest.fixture(scope="module")
def locked(tmp_path_factory):
    """A folder nothing can be written into, root included (``chattr +i``), or skip."""
    folder = tmp_path_factory.mktemp("locked")
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)]).returncode != 0:
            pytest.skip("cannot make a folder unwritable for root here (no chattr +i)")
        yield folder
        subprocess.run(["chattr", "-i", str(folder)])
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_refused(code: int, out: str, err: str, culprit: Path | str, problem: str) -> None:
    assert "Traceback" not in out + err
    assert code == 2, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"deepfakelab: error: {culprit}: "), lines[0]
    assert lines[0].count(str(culprit)) == 1, f"path named twice: {lines[0]}"
    assert problem in lines[0], lines[0]


def _nothing_written(*paths: Path) -> None:
    for path in paths:
        assert not path.exists() or (path.is_dir() and not any(path.iterdir())), f"{path} was written"


# (input, the problem its one line must name)
BAD_PHOTOS = [
    ("empty.png", "the file is empty"),
    ("text.jpg", "not a readable image"),
    ("px1.png", "only 1x1 pixels, too small to find a face"),
    ("px8.png", "only 8x8 pixels, too small to find a face"),
    ("px20.png", "only 20x20 pixels, too small to find a face"),
    ("folder", "is a folder, expected a photo file"),
    ("missing.png", "no such file"),
]
BAD_VIDEOS = [
    ("empty.mp4", "the file is empty"),
    ("text.mp4", "not a readable video"),
    ("cut_end.mp4", "not a readable video"),
    ("small16.mp4", "only 16x16 pixels, too small to find a face"),
    ("px8.png", "only 8x8 pixels, too small to find a face"),
    ("folder", "is a folder, expected a video file"),
    ("missing.mp4", "no such file"),
]


def _path(corpus, name: str) -> Path:
    return corpus.get(name, corpus["folder"].parent / name)


@pytest.mark.parametrize("name, problem", BAD_PHOTOS)
def test_reenact_refuses_a_bad_photo(corpus, tmp_path, capsys, name, problem):
    out = tmp_path / "out.mp4"
    result = _run(capsys, "reenact", _path(corpus, name), corpus["driving"], "-o", out)
    _assert_refused(*result, _path(corpus, name), problem)
    _nothing_written(out, out.with_suffix(".png"))


@pytest.mark.parametrize("name, problem", BAD_VIDEOS)
def test_reenact_refuses_a_bad_driving_video_before_any_face_detection(
    corpus, tmp_path, capsys, monkeypatch, name, problem
):
    from deepfakelab.faces import detection

    monkeypatch.setattr(
        detection, "mtcnn", lambda *a, **k: pytest.fail("faces were searched before the check")
    )
    out = tmp_path / "out.mp4"
    result = _run(capsys, "reenact", corpus["photo"], _path(corpus, name), "-o", out)
    _assert_refused(*result, _path(corpus, name), problem)
    _nothing_written(out, out.with_suffix(".png"))


def test_reenact_refuses_a_bad_fomm_config_before_any_face_detection(
    corpus, lab_files, tmp_path, capsys, monkeypatch
):
    from deepfakelab.faces import detection

    monkeypatch.setattr(
        detection, "mtcnn", lambda *a, **k: pytest.fail("faces were searched before the check")
    )
    out = tmp_path / "out.mp4"
    small = REPO / "lib" / "deepfakelab" / "assets" / "fomm-small-64.pth.tar"
    cases = _bad_config_files(lab_files)[1:] + [
        (lab_files["list.yaml"], "needs a top-level 'model_params' section")
    ]
    for config, problem in cases:
        result = _run(
            capsys,
            "reenact",
            corpus["photo"],
            corpus["driving"],
            "-o",
            out,
            "--checkpoint",
            small,
            "--size",
            "64",
            "--config",
            config,
        )
        _assert_refused(*result, config, problem)
        _nothing_written(out, out.with_suffix(".png"))
    code, _, err = _run(
        capsys,
        "reenact",
        corpus["photo"],
        corpus["driving"],
        "-o",
        out,
        "--checkpoint",
        small,
        "--config",
        lab_files["folder"] / "missing.yaml",
    )
    assert (
        code == 2
        and "missing.yaml not found; give a YAML file or one of" in err
        and len(err.splitlines()) == 1
    )


def _bad_outputs(corpus, locked, tmp_path):
    existing = tmp_path / "existing_folder.mp4"
    existing.mkdir()
    return [
        (existing, "is a folder"),
        (tmp_path / "out_without_extension", "has no extension"),
        (tmp_path / "out.avi", "has the extension .avi"),
        (corpus["not_a_folder"] / "out.mp4", "is a file, not a folder"),
        (locked / "out.mp4", "cannot write in"),
    ]


def test_reenact_refuses_bad_outputs_before_any_work(corpus, locked, tmp_path, capsys, monkeypatch):
    from deepfakelab.faces import detection

    monkeypatch.setattr(
        detection, "mtcnn", lambda *a, **k: pytest.fail("faces were searched before the check")
    )
    for out, problem in _bad_outputs(corpus, locked, tmp_path):
        result = _run(capsys, "reenact", corpus["photo"], corpus["driving"], "-o", out)
        _assert_refused(*result, out, problem)
        _nothing_written(out.with_suffix(".png"))


@pytest.mark.parametrize(
    "name, note",
    [
        ("gray.png", "grayscale photo"),
        ("rgba.png", "photo with transparency"),
        ("huge.jpg", "large photo (6000x6000)"),
    ],
)
def test_reenact_uses_odd_but_usable_photos_and_says_so(corpus, tmp_path, capsys, name, note):
    out = tmp_path / "out.mp4"
    code, printed, err = _run(
        capsys, "reenact", corpus[name], corpus["driving"], "-o", out, "--max-frames", "2"
    )
    assert code == 0 and "Traceback" not in printed + err, err
    assert f"note: {corpus[name]}: {note}" in printed
    assert count_frames(out) == 2


@pytest.mark.parametrize(
    "name, frames, note",
    [
        ("one_frame.mp4", 1, None),
        ("cut_front.mp4", None, "the header announces 40 frames but only"),
    ],
)
def test_reenact_uses_short_and_half_readable_driving_videos(corpus, tmp_path, capsys, name, frames, note):
    out = tmp_path / "out.mp4"
    code, printed, err = _run(capsys, "reenact", corpus["photo"], corpus[name], "-o", out)
    assert code == 0 and "Traceback" not in printed + err, err
    decoded = len(read_video(corpus[name]).frames)
    assert count_frames(out) == decoded == (frames or decoded) and decoded < 40
    assert f"wrote {out} ({decoded} frames" in printed
    if note:
        assert f"note: {corpus[name]}: {note} {decoded} could be decoded" in printed


def test_reenact_says_when_the_driving_face_is_small(corpus, tmp_path, capsys):
    """A "full-body" driving video: the head shrunk to 128 px in a 480 px frame (face about 60 px)."""
    frames = read_video(corpus["driving"]).frames
    wide = np.full((len(frames), 480, 480, 3), 90, np.uint8)
    wide[:, 300:428, 170:298] = [cv2.resize(f, (128, 128), interpolation=cv2.INTER_AREA) for f in frames]
    driving = write_video(tmp_path / "wide.mp4", wide, FPS)
    code, printed, err = _run(capsys, "reenact", corpus["photo"], driving, "-o", tmp_path / "out.mp4")
    assert code == 0, err
    assert f"note: {driving}: the face is small (about" in printed


def test_reenact_keeps_every_frame_when_the_audio_ends_early(corpus, tmp_path, capsys):
    """The driving video's audio (1.5 s) ends before its 40 frames (1.6 s): padded, never cut."""
    out = tmp_path / "out.mp4"
    code, printed, err = _run(capsys, "reenact", corpus["photo"], corpus["with_audio"], "-o", out)
    assert code == 0, err
    written = read_video(out)
    assert len(written.frames) == count_frames(out) == 40 and written.has_audio
    assert f"wrote {out} (40 frames at 25 fps" in printed


@pytest.mark.parametrize("name, problem", BAD_VIDEOS + [("not_a_folder", "not a readable video")])
def test_detect_refuses_a_bad_input_alone_and_writes_no_report(corpus, tmp_path, capsys, name, problem):
    out = tmp_path / "report"
    result = _run(capsys, "detect", _path(corpus, name), "-o", out, "--count", "2", "--methods", "gradcam")
    _assert_refused(*result, _path(corpus, name), problem)
    _nothing_written(out)


def test_detect_refuses_bad_output_folders_first(corpus, locked, tmp_path, capsys, monkeypatch):
    from deepfakelab.detect import inference

    monkeypatch.setattr(inference, "probe_video", lambda *a: pytest.fail("inputs were read before the check"))
    for out, problem in [
        (corpus["not_a_folder"], "is a file, expected an output folder"),
        (corpus["not_a_folder"] / "report", "is a file, not a folder"),
        (locked / "report", "cannot write in"),
    ]:
        result = _run(capsys, "detect", corpus["driving"], "-o", out)
        _assert_refused(*result, out, problem)


def test_detect_batch_reports_each_bad_input_and_keeps_the_others(corpus, tmp_path, capsys):
    out = tmp_path / "report"
    code, printed, err = _run(
        capsys,
        "detect",
        corpus["driving"],
        corpus["empty.mp4"],
        corpus["photo"],
        corpus["cut_front.mp4"],
        "-o",
        out,
        "--count",
        "16",
        "--methods",
        "gradcam",
    )
    assert code == 1 and "Traceback" not in printed + err  # one input failed: a batch user must notice
    messages = [
        line
        for line in err.splitlines()
        if line.strip() and "it/s" not in line and "video/s" not in line and "s/video" not in line
    ]  # tqdm's progress bar shares stderr
    assert messages == [
        f"deepfakelab: error: {corpus['empty.mp4']}: the file is empty (0 bytes)",
        "deepfakelab: 1 of 4 inputs could not be scored (see above); the report holds the others",
    ]
    assert f"note: {corpus['driving']}: has only 3 frames; scoring all of them instead of 16" in printed
    assert f"note: {corpus['cut_front.mp4']}: the header announces 40 frames" in printed
    assert "0 fps" not in printed
    page = (out / "report.html").read_text()
    assert "a still image, scored" in page and "0 fps" not in page and "empty.mp4" in page


@pytest.mark.parametrize("name", ["gray.png", "rgba.png", "huge.jpg", "one_frame.mp4"])
def test_detect_scores_odd_but_usable_inputs(corpus, tmp_path, capsys, name):
    code, printed, err = _run(
        capsys, "detect", corpus[name], "-o", tmp_path / "r", "--count", "2", "--methods", "gradcam"
    )
    assert code == 0 and "Traceback" not in printed + err, err
    assert (tmp_path / "r" / "report.html").is_file()


@pytest.mark.parametrize("name, problem", [n for n in BAD_VIDEOS if n[0] != "px8.png"])
def test_frames_refuses_a_bad_video(corpus, tmp_path, capsys, name, problem):
    if "too small" in problem:  # frames has no faces to find: a 16x16 video is fine for it
        code, printed, err = _run(capsys, "frames", _path(corpus, name), "-o", tmp_path / "f", "--count", "2")
        assert code == 0 and (tmp_path / "f" / "frames.json").is_file()
        return
    out = tmp_path / "frames"
    result = _run(capsys, "frames", _path(corpus, name), "-o", out, "--count", "2")
    _assert_refused(
        *result,
        _path(corpus, name),
        problem.replace("is a folder, expected a video file", "is a folder, expected a video file"),
    )
    _nothing_written(out)


def test_frames_refuses_bad_outputs_and_too_many_frames(corpus, locked, tmp_path, capsys):
    for out, problem in [
        (corpus["not_a_folder"], "is a file, expected an output folder"),
        (corpus["not_a_folder"] / "frames", "is a file, not a folder"),
        (locked / "frames", "cannot write in"),
    ]:
        _assert_refused(*_run(capsys, "frames", corpus["driving"], "-o", out, "--count", "2"), out, problem)
    out = tmp_path / "frames"
    result = _run(capsys, "frames", corpus["one_frame.mp4"], "-o", out, "--count", "2")
    _assert_refused(*result, corpus["one_frame.mp4"], "2 frames were asked for but the video has only 1")
    _nothing_written(out)


def test_frames_of_a_half_readable_video_says_so(corpus, tmp_path, capsys):
    code, printed, err = _run(capsys, "frames", corpus["cut_front.mp4"], "-o", tmp_path / "f", "--every", "5")
    assert code == 0, err
    assert f"note: {corpus['cut_front.mp4']}: the header announces 40 frames but only" in printed


@pytest.mark.parametrize(
    "name, problem",
    [
        ("empty.mp4", "the file is empty"),
        ("text.mp4", "not a readable video"),
        ("cut_end.mp4", "not a readable video"),
        ("folder", "is a folder"),
        ("missing.mp4", "no such file"),
        ("text.jpg", "not a readable image"),
    ],
)
def test_info_refuses_a_bad_file(corpus, capsys, name, problem):
    _assert_refused(*_run(capsys, "info", _path(corpus, name)), _path(corpus, name), problem)


def test_info_shows_frames_audio_and_the_label(corpus, tmp_path, capsys):
    code, printed, _ = _run(capsys, "info", corpus["with_audio"])
    assert code == 0
    assert "size: 256x256" in printed and "frames: 40 decoded" in printed and "audio: aac" in printed
    assert "frame rate: 25 fps" in printed and "duration: 1.60 s" in printed
    assert "label: real (synthetic head)" in printed
    code, printed, _ = _run(capsys, "info", corpus["cut_front.mp4"])
    assert code == 0 and "(the header announces 40)" in printed and "truncated or damaged" in printed
    code, printed, _ = _run(capsys, "info", corpus["gray.png"])
    assert code == 0 and "photo" in printed and "size: 256x256" in printed and "grayscale" in printed


def test_training_and_data_commands_refuse_bad_paths(corpus, tmp_path, capsys):
    _assert_refused(
        *_run(capsys, "detect-data", "--videos", corpus["not_a_folder"], "--out", tmp_path / "f.npz"),
        corpus["not_a_folder"],
        "is a file, expected a folder with real/ and fake/",
    )
    _assert_refused(
        *_run(capsys, "detect-data", "--videos", tmp_path / "nowhere", "--out", tmp_path / "f.npz"),
        tmp_path / "nowhere",
        "no such folder",
    )
    _assert_refused(*_run(capsys, "detect-data", "--out", corpus["folder"]), corpus["folder"], "is a folder")
    _assert_refused(
        *_run(capsys, "detect-train", corpus["text.mp4"], "--out", tmp_path / "run"),
        corpus["text.mp4"],
        "not a deepfakelab face set",
    )
    _assert_refused(
        *_run(capsys, "detect-train", corpus["folder"], "--out", tmp_path / "run"),
        corpus["folder"],
        "is a folder",
    )
    _assert_refused(
        *_run(capsys, "detect-train", tmp_path / "missing.npz", "--out", tmp_path / "run"),
        tmp_path / "missing.npz",
        "no such file",
    )
    _assert_refused(
        *_run(capsys, "reenact-eval", "--checkpoint", corpus["folder"]), corpus["folder"], "is a folder"
    )
    _assert_refused(
        *_run(capsys, "reenact-eval", "--json", corpus["folder"]), corpus["folder"], "is a folder"
    )
    _assert_refused(
        *_run(capsys, "reenact-eval", "--json", tmp_path / "scores"), tmp_path / "scores", "has no extension"
    )
    for argv in (["heads", "make"], ["heads", "sheet"], ["reenact-train", "fomm-small-64", "--out"]):
        _assert_refused(
            *_run(capsys, *argv, corpus["not_a_folder"]),
            corpus["not_a_folder"],
            "is a file, expected an output folder",
        )
        _assert_refused(
            *_run(capsys, *argv, corpus["not_a_folder"] / "sub"),
            corpus["not_a_folder"] / "sub",
            "is a file, not a folder",
        )
    _nothing_written(tmp_path / "f.npz", tmp_path / "run", tmp_path / "scores")


# --------------------------------------------------------------------------- gan and course
@pytest.fixture(scope="module")
def lab_files(tmp_path_factory) -> dict[str, Path]:
    """Bad configs, checkpoints, run folders, course folders and notebooks for ``gan`` and ``course``."""
    root = tmp_path_factory.mktemp("lab_files")
    files = {"folder": root / "a_folder", "not_a_folder": root / "not_a_folder"}
    files["folder"].mkdir()
    files["not_a_folder"].write_text("a plain file")
    for name, text in [
        ("empty.yaml", ""),
        ("bad.yaml", "train: [unclosed\n"),
        ("list.yaml", "- 1\n- 2\n"),
        ("text.pt", "not a checkpoint\n" * 20),
        ("empty.pt", ""),
        ("text.zip", "not a zip\n" * 20),
    ]:
        files[name] = root / name
        files[name].write_text(text)
    # a run folder whose newest checkpoint is cut short (a kill during a copy), and one whose config.json is
    files["bad_resume"] = root / "bad_resume"
    (files["bad_resume"] / "checkpoints").mkdir(parents=True)
    (files["bad_resume"] / "config.json").write_text("{}")
    files["cut.pt"] = files["bad_resume"] / "checkpoints" / "epoch_0002.pt"
    files["cut.pt"].write_bytes(b"PK\x03\x04" + b"\0" * 200)
    files["bad_config_run"] = root / "bad_config_run"
    (files["bad_config_run"] / "checkpoints").mkdir(parents=True)
    (files["bad_config_run"] / "checkpoints" / "epoch_0001.pt").write_bytes(b"\0" * 200)
    files["run_config"] = files["bad_config_run"] / "config.json"
    files["run_config"].write_text('{"train": ')
    # course folders: not a course, a course whose notebook is not JSON, one whose JSON is not a notebook, a good one
    files["not_a_course"] = root / "not_a_course"
    files["not_a_course"].mkdir()
    kit_config = REPO / "autograder" / "nbgrader_config.py"
    for name, notebook in [
        ("course_text_nb", "{not json"),
        ("course_list_nb", "[1, 2]"),
        ("course", json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})),
    ]:
        files[name] = root / name
        (files[name] / "source" / "lab").mkdir(parents=True)
        shutil.copy2(kit_config, files[name] / "nbgrader_config.py")
        files[f"{name}.ipynb"] = files[name] / "source" / "lab" / "lab.ipynb"
        files[f"{name}.ipynb"].write_text(notebook)
    return files


@pytest.fixture
def no_bag_data(monkeypatch):
    """Loading bags (seconds, then minutes of training) must come after every check."""
    from deepfakelab.gan import data

    monkeypatch.setattr(data, "load_bags", lambda *a, **k: pytest.fail("bags were loaded before the check"))


def _bad_config_files(f):
    return [
        (f["folder"] / "missing.yaml", "no such file"),
        (f["folder"], "is a folder"),
        (f["empty.yaml"], "the file is empty"),
        (f["bad.yaml"], "not valid YAML/JSON (line 2, column 1"),
    ]


def test_gan_train_refuses_bad_configs_data_and_run_folders_before_loading_bags(
    lab_files, locked, tmp_path, capsys, no_bag_data
):
    f, out = lab_files, tmp_path / "run"
    cases = [(["--config", path], path, problem) for path, problem in _bad_config_files(f)] + [
        (["--config", f["list.yaml"]], f["list.yaml"], "must hold a mapping of config fields"),
        (["--data", f["folder"] / "missing"], f["folder"] / "missing", "no such folder"),
        (["--data", f["not_a_folder"]], f["not_a_folder"], "is a file, expected a folder of bag photos"),
    ]
    for argv, culprit, problem in cases:
        _assert_refused(*_run(capsys, "gan", "train", *argv, "--out", out), culprit, problem)
    _nothing_written(out)
    for run, problem in [
        (f["not_a_folder"], "is a file, expected an output folder"),
        (f["not_a_folder"] / "run", "is a file, not a folder"),
        (locked / "run", "cannot write in"),
        (f["bad_resume"], None),
        (f["bad_config_run"], None),
    ]:
        culprit = {f["bad_resume"]: f["cut.pt"], f["bad_config_run"]: f["run_config"]}.get(run, run)
        problem = problem or (
            "not a readable deepfakelab GAN checkpoint" if run == f["bad_resume"] else "not valid JSON"
        )
        _assert_refused(
            *_run(capsys, "gan", "train", "--source", "procedural", "--out", run), culprit, problem
        )
    assert sorted(p.name for p in f["bad_resume"].rglob("*")) == [
        "checkpoints",
        "config.json",
        "epoch_0002.pt",
    ]


def test_gan_sweep_refuses_bad_run_lists_and_outputs_before_loading_bags(
    lab_files, locked, tmp_path, capsys, no_bag_data
):
    f, out = lab_files, tmp_path / "sweep"
    for path, problem in _bad_config_files(f) + [(f["list.yaml"], "must hold a list of mappings")]:
        if path != f["list.yaml"]:
            _assert_refused(*_run(capsys, "gan", "sweep", "--config", path, "--out", out), path, problem)
        _assert_refused(*_run(capsys, "gan", "sweep", "--runs", path, "--out", out), path, problem)
    for bad, problem in [
        (f["not_a_folder"], "is a file, expected an output folder"),
        (f["not_a_folder"] / "sweep", "is a file, not a folder"),
        (locked / "sweep", "cannot write in"),
    ]:
        _assert_refused(*_run(capsys, "gan", "sweep", "--out", bad), bad, problem)
    _nothing_written(out)


def test_gan_sample_and_evaluate_refuse_bad_checkpoints_and_outputs(
    lab_files, locked, tmp_path, capsys, no_bag_data
):
    f, out = lab_files, tmp_path / "samples.png"
    bad_runs = [
        (f["folder"] / "missing.pt", "no such file"),
        (f["empty.pt"], "the file is empty"),
        (f["text.pt"], "not a readable deepfakelab GAN checkpoint"),
        (f["cut.pt"], "truncated"),
        (f["folder"], "no checkpoint found in this run folder"),
    ]
    for run, problem in bad_runs:
        _assert_refused(*_run(capsys, "gan", "sample", run, "-o", out), run, problem)
        _assert_refused(*_run(capsys, "gan", "evaluate", run), run, problem)
    for bad, problem in [
        (f["folder"], "is a folder"),
        (tmp_path / "samples", "has no extension"),
        (tmp_path / "samples.gif", "has the extension .gif"),
        (f["not_a_folder"] / "s.png", "is a file, not a folder"),
        (locked / "s.png", "cannot write in"),
    ]:
        _assert_refused(*_run(capsys, "gan", "sample", f["text.pt"], "-o", bad), bad, problem)
        _assert_refused(*_run(capsys, "gan", "data", "-o", bad), bad, problem)
    _nothing_written(out)


def test_gan_classifier_refuses_bad_outputs_and_data_before_training(
    lab_files, locked, tmp_path, capsys, monkeypatch
):
    from deepfakelab.gan import classifier

    real_train = classifier.train_classifier
    monkeypatch.setattr(
        classifier,
        "train_classifier",
        lambda data, **k: real_train(data, **k) if data else pytest.fail("training before the check"),
    )
    f = lab_files
    for bad, problem in [
        (f["folder"], "is a folder"),
        (tmp_path / "model.pth", "has the extension .pth"),
        (f["not_a_folder"] / "c.pt", "is a file, not a folder"),
        (locked / "c.pt", "cannot write in"),
    ]:
        _assert_refused(*_run(capsys, "gan", "classifier", "--out", bad), bad, problem)
    out = tmp_path / "c.pt"
    _assert_refused(
        *_run(capsys, "gan", "classifier", "--data", f["folder"], "--out", out),
        f["folder"],
        "no Fashion-MNIST IDX files",
    )
    _assert_refused(
        *_run(capsys, "gan", "classifier", "--data", f["folder"] / "nowhere", "--out", out),
        f["folder"] / "nowhere",
        "no Fashion-MNIST IDX files",
    )
    _nothing_written(out)


def test_course_commands_refuse_what_is_not_a_course_before_nbgrader_runs(
    lab_files, locked, tmp_path, capsys, monkeypatch
):
    from deepfakelab.course import release
    from deepfakelab.course.grading import grade

    monkeypatch.setattr(
        release, "generate_assignment", lambda *a: pytest.fail("nbgrader ran before the check")
    )
    monkeypatch.setattr(grade, "nbgrader_api", lambda *a: pytest.fail("nbgrader ran before the check"))
    f = lab_files
    not_courses = [
        (f["not_a_course"], "not a course folder (no nbgrader_config.py)"),
        (f["folder"] / "missing", "no such folder"),
        (f["not_a_folder"], "is a file, expected a course"),
    ]
    for course, problem in not_courses:
        _assert_refused(*_run(capsys, "course", "grade", "lab", "--course", course), course, problem)
        _assert_refused(
            *_run(capsys, "course", "gradescope", "lab", "--course", course, "-o", tmp_path / "a.zip"),
            course,
            problem,
        )
    for name, problem in [
        ("course_text_nb", "not valid JSON (expected a Jupyter notebook"),
        ("course_list_nb", "JSON but not a Jupyter notebook"),
    ]:
        notebook = f[f"{name}.ipynb"]
        for argv in (["grade", "lab"], ["gradescope", "lab", "-o", tmp_path / "a.zip"], ["release", "lab"]):
            _assert_refused(*_run(capsys, "course", *argv, "--course", f[name]), notebook, problem)
    _assert_refused(
        *_run(capsys, "course", "grade", "nolab", "--course", f["course"]),
        f["course"] / "source" / "nolab",
        "no notebooks here; assignments in this course: ['lab']",
    )
    _assert_refused(
        *_run(
            capsys,
            "course",
            "grade",
            "lab",
            "--course",
            f["course"],
            "--hidden-checks",
            f["folder"] / "missing",
        ),
        f["folder"] / "missing",
        "no such folder",
    )
    for bad, problem in [
        (f["folder"] / "missing.zip", "no such file"),
        (f["folder"], "is a folder"),
        (f["text.zip"], "not a zip archive"),
    ]:
        _assert_refused(
            *_run(capsys, "course", "grade", "lab", "--course", f["course"], "--zip", bad), bad, problem
        )
    for bad, problem in [
        (f["folder"], "is a folder"),
        (tmp_path / "autograder.tar", "has the extension .tar"),
        (f["not_a_folder"] / "a.zip", "is a file, not a folder"),
        (locked / "a.zip", "cannot write in"),
    ]:
        _assert_refused(
            *_run(capsys, "course", "gradescope", "lab", "--course", f["course"], "-o", bad), bad, problem
        )
    _nothing_written(tmp_path / "a.zip", f["course"] / "release", f["course"] / "downloaded")


def test_course_release_and_media_refuse_bad_folders_and_files_before_writing(
    lab_files, locked, tmp_path, capsys
):
    f, course = lab_files, tmp_path / "course"
    for bad, problem in [
        (f["not_a_folder"], "is a file, expected an output folder"),
        (f["not_a_folder"] / "course", "is a file, not a folder"),
        (locked / "course", "cannot write in"),
    ]:
        _assert_refused(*_run(capsys, "course", "release", "--course", bad), bad, problem)
    _assert_refused(
        *_run(capsys, "course", "release", "no-such-lab", "--course", course),
        "no-such-lab",
        "no such assignment in the kit's solutions/",
    )
    for pack, culprit, problem in [
        (f["folder"] / "missing", f["folder"] / "missing", "no such folder"),
        (f["not_a_folder"], f["not_a_folder"], "is a file, expected a Lab 1 media pack"),
        (f["folder"], f["folder"] / "lab1.yaml", "no manifest"),
    ]:
        _assert_refused(
            *_run(capsys, "course", "release", "--course", course, "--media", pack), culprit, problem
        )
        _assert_refused(*_run(capsys, "course", "media", "check", pack), culprit, problem)
    _nothing_written(course)
    pack = tmp_path / "pack"
    good = [f["text.pt"]] * 4  # only their paths are looked at before the bad one is found
    for photos, bad, problem in [
        ([f["folder"] / "missing.jpg"], f["folder"] / "missing.jpg", "no such file"),
        ([f["folder"]], f["folder"], "is a folder, expected a photo file"),
        ([f["empty.pt"]], f["empty.pt"], "the file is empty"),
    ]:
        _assert_refused(
            *_run(capsys, "course", "media", "init", pack, "--photos", *photos, "--videos", *good),
            bad,
            problem,
        )
    for bad, problem in [
        (f["not_a_folder"], "is a file, expected an output folder"),
        (locked / "pack", "cannot write in"),
    ]:
        _assert_refused(
            *_run(capsys, "course", "media", "init", bad, "--photos", *good, "--videos", *good), bad, problem
        )
    _nothing_written(pack)


def test_demo_refuses_an_output_it_cannot_write_before_any_part(
    lab_files, locked, tmp_path, capsys, monkeypatch
):
    from deepfakelab.demos import gan as gan_demo, runner as demo

    monkeypatch.setattr(
        demo, "prepare_part", lambda *a, **k: pytest.fail("a part was prepared before the check")
    )
    monkeypatch.setattr(gan_demo, "run", lambda *a, **k: pytest.fail("a part ran before the check"))
    f = lab_files
    blocked = tmp_path / "blocked"
    (blocked).mkdir()
    (blocked / "gan").write_text("a file where the GAN part's folder goes")
    for out, culprit, problem in [
        (f["not_a_folder"], f["not_a_folder"], "is a file, expected an output folder"),
        (f["not_a_folder"] / "demo", f["not_a_folder"] / "demo", "is a file, not a folder"),
        (locked / "demo", locked / "demo", "cannot write in"),
        (blocked, blocked / "gan", "is a file, expected an output folder"),
    ]:
        for quick in ([], ["--quick"]):
            _assert_refused(*_run(capsys, "demo", "--out", out, "--parts", "gan", *quick), culprit, problem)
    assert sorted(p.name for p in blocked.iterdir()) == ["gan"]

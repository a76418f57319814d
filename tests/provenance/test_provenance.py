"""Provenance marks (issue 30): the watermark's payload round trip and what it survives, the C2PA
manifest's sign / read / tamper cycle, and ``deepfakelab verify``.

Only attacks this file can assert on one 256 px picture are asserted; the rates over many
generated clips and the false positives on real media are bench/provenance.py's job.
"""

from __future__ import annotations

import io
import json
import subprocess

import c2pa
import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from deepfakelab.cli import main
from deepfakelab.errors import ConfigError, DataError
from deepfakelab.media.photo import astronaut
from deepfakelab.media.video import ffmpeg_exe, read_video
from deepfakelab.media.writer import read_metadata, write_video
from deepfakelab.provenance import c2pa_manifest, watermark
from deepfakelab.provenance.marking import Provenance, save_marked_image
from deepfakelab.provenance.verify import verify_file
from deepfakelab.demos.reenact import driving_video
from deepfakelab.reenact.pipeline import ReenactOptions, reenact_files

FILE_ID = 0xA7


@pytest.fixture(autouse=True)
def _local_key(tmp_path_factory, monkeypatch):
    """A kit-made key in a temporary folder: tests never touch the user's ~/.config."""
    monkeypatch.setenv(c2pa_manifest.DIR_ENV, str(tmp_path_factory.getbasetemp() / "provenance-key"))
    monkeypatch.delenv(c2pa_manifest.KEY_ENV, raising=False)
    monkeypatch.delenv(c2pa_manifest.CERTS_ENV, raising=False)


@pytest.fixture(scope="module")
def picture():
    return cv2.resize(data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def marked(picture):
    return watermark.embed(picture, FILE_ID)


def _jpeg(image, quality=50):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def _reads_back(image) -> bool:
    found = watermark.detect(image)
    return found.found and found.payload.file_id == FILE_ID


def test_payload_round_trip_and_invisibility(picture, marked):
    bits = watermark.encode_payload(FILE_ID, "0.1.0")
    assert len(bits) == watermark.PAYLOAD_BITS
    assert watermark.decode_payload(bits).file_id == FILE_ID
    flipped = bits.copy()
    flipped[3] ^= 1
    assert watermark.decode_payload(flipped) is None  # the CRC catches a wrong bit
    psnr = 10 * np.log10(255**2 / np.mean((marked.astype(float) - picture) ** 2))
    assert psnr >= 40
    found = watermark.detect(marked)
    assert found.found and found.payload.version == "0.1" and found.payload.file_id == FILE_ID


def test_no_mark_in_unmarked_pictures(picture):
    for image in (picture, data.coffee(), data.chelsea(), np.full((200, 300, 3), 128, np.uint8)):
        assert not watermark.detect(image).found


@pytest.mark.parametrize("attack", ["jpeg50", "half", "crop10"])
def test_mark_survives_one_attack_on_a_single_picture(marked, attack):
    h, w = marked.shape[:2]
    attacked = {
        "jpeg50": lambda: _jpeg(marked),
        "half": lambda: cv2.resize(marked, (w // 2, h // 2), interpolation=cv2.INTER_AREA),
        # 10 % of each side's length cut away: 13 px above and left, the rest below and right
        "crop10": lambda: marked[13 : h - 13, 13 : w - 13],
    }[attack]()
    assert _reads_back(attacked)


def test_bad_frames_are_one_clear_error():
    with pytest.raises(DataError, match="uint8 RGB"):
        watermark.embed(np.zeros((64, 64), np.float32), 1)


def _clip(picture, n=24):
    """A generated-looking clip: the picture drifting a few pixels."""
    return [np.roll(picture, (i // 3, i // 2), axis=(0, 1)) for i in range(n)]


def test_reenacted_video_is_marked_signed_and_survives_h264(picture, tmp_path):
    path = write_video(
        tmp_path / "fake.mp4", _clip(picture), 12.0, visible_mark=True, provenance=Provenance(file_id=FILE_ID)
    )
    assert "SYNTHETIC" in read_metadata(path)["comment"]  # the metadata label stays
    report = verify_file(path)
    assert report.c2pa == "valid" and report.watermark and report.payload["file_id"] == f"{FILE_ID:02x}"
    reencoded = tmp_path / "reencoded.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-c:v", "libx264", "-crf", "28", str(reencoded)],
        check=True,
    )
    report = verify_file(reencoded)
    assert report.c2pa == "none" and report.watermark and report.note and "watermark holds" in report.note
    assert read_video(reencoded).frames.shape[0] == 24


def test_one_changed_byte_makes_the_manifest_invalid(picture, tmp_path):
    path = save_marked_image(tmp_path / "sample.png", picture, Provenance(file_id=FILE_ID))
    manifest = c2pa_manifest.read_manifest(path)
    assert manifest.state == "valid" and not manifest.trusted
    assert manifest.digital_source_type == c2pa_manifest.TRAINED_ALGORITHMIC_MEDIA
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0x01  # in the image data, after the manifest
    (tmp_path / "changed.png").write_bytes(bytes(raw))
    assert c2pa_manifest.read_manifest(tmp_path / "changed.png").state == "invalid"


def test_ingredients_are_hashes_only(picture, tmp_path):
    source = tmp_path / "source.png"
    Image.fromarray(picture).save(source)
    path = save_marked_image(tmp_path / "fake.jpg", picture, Provenance([source]))
    with c2pa.Reader(str(path)) as reader:
        active = reader.get_active_manifest()
    (ingredient,) = active["ingredients"]
    assert ingredient["metadata"][c2pa_manifest.SHA256_KEY] == c2pa_manifest.sha256_file(source)
    assert "thumbnail" not in ingredient


def test_verify_json_schema_and_an_unreadable_file_is_one_line(picture, tmp_path, capsys):
    signed = save_marked_image(tmp_path / "fake.png", picture, Provenance(file_id=FILE_ID))
    real = tmp_path / "real.png"
    Image.fromarray(picture).save(real)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    out = tmp_path / "verify.json"
    assert main(["verify", str(signed), str(real), str(broken), "--json", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[-1].startswith("wrote")
    assert "valid" in lines[0] and "watermark found" in lines[0]
    assert "no C2PA manifest" in lines[1] and "no watermark found" in lines[1]
    assert lines[2].startswith(f"{broken}: cannot verify")
    files = json.loads(out.read_text())["files"]
    assert [f["c2pa"] for f in files] == ["valid", "none", "none"]
    assert [f["watermark"] for f in files] == [True, False, False]
    assert files[0]["payload"]["file_id"] == f"{FILE_ID:02x}" and files[1]["payload"] is None
    assert all(set(f) >= {"path", "c2pa", "watermark", "payload"} for f in files)


@pytest.mark.slow
def test_reenact_writes_a_marked_and_signed_fake(tmp_path):
    """The point where the kit writes a generated video: ``reenact``'s output carries both marks,
    and its manifest names the two inputs by hash (about 9 s: a whole mesh-warp reenactment)."""
    photo, driving = tmp_path / "astronaut.png", tmp_path / "driving.mp4"
    Image.fromarray(astronaut()).save(photo)
    write_video(driving, driving_video(12)[0], 25.0, label="driving (synthetic head)")
    result = reenact_files(photo, driving, tmp_path / "fake.mp4", ReenactOptions(progress=False))
    report = verify_file(result.output)
    assert report.c2pa == "valid" and report.watermark
    assert report.c2pa_source_type == c2pa_manifest.TRAINED_ALGORITHMIC_MEDIA
    with c2pa.Reader(str(result.output)) as reader:
        hashes = {
            i["metadata"][c2pa_manifest.SHA256_KEY] for i in reader.get_active_manifest()["ingredients"]
        }
    assert hashes == {c2pa_manifest.sha256_file(photo), c2pa_manifest.sha256_file(driving)}
    assert not verify_file(driving).watermark  # an input the kit wrote as a plain video stays unmarked


def test_an_instructors_key_signs_when_configured(picture, tmp_path, monkeypatch):
    """Both variables set: their key and chain sign; one without the other: one clear error."""
    c2pa_manifest._make_local_identity(tmp_path / "made")  # any valid chain stands in for a CA's
    key, chain = c2pa_manifest._split_pem((tmp_path / "made" / c2pa_manifest.LOCAL_SIGNER).read_bytes())
    (tmp_path / "key.pem").write_bytes(key)
    (tmp_path / "chain.pem").write_bytes(chain)
    monkeypatch.setenv(c2pa_manifest.KEY_ENV, str(tmp_path / "key.pem"))
    with pytest.raises(ConfigError, match="set both"):
        c2pa_manifest.signing_identity()
    monkeypatch.setenv(c2pa_manifest.CERTS_ENV, str(tmp_path / "chain.pem"))
    identity = c2pa_manifest.signing_identity()
    assert identity.source == "instructor"
    path = save_marked_image(tmp_path / "fake.png", picture, Provenance())
    assert c2pa_manifest.read_manifest(path).state == "valid"


def test_signing_keeps_the_files_mode(picture, tmp_path):
    path = tmp_path / "fake.png"
    Image.fromarray(picture).save(path)
    path.chmod(0o644)
    c2pa_manifest.sign_file(path)
    assert path.stat().st_mode & 0o777 == 0o644

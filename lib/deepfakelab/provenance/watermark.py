"""An invisible watermark in every frame the kit generates, and its detector.

Why not ``invisible-watermark`` 0.2.0 (PyPI, the library Stable Diffusion used)
-------------------------------------------------------------------------------
Inspected from its wheel: pure Python (``imwatermark/``: ``maxDct.py`` = the DWT-DCT method,
``dwtDctSvd.py``, ``rivaGan.py`` with two RivaGAN ONNX models (1.7 MB) it runs with onnxruntime,
an optional import; torch is imported at module level), no native code. Its
metadata requires ``opencv-python`` (which must not be installed beside the kit's
``opencv-python-headless``: both own the ``cv2`` package) and ``torch``; with ``--no-deps`` it
runs on the headless wheel plus PyWavelets. We did not adopt it. Measured once on 256 px
pictures (scikit-image's astronaut, coffee, chelsea, rocket; 8 random 32-bit payloads each;
``dwtDct``, its default; run from a ``pip install --no-deps --target`` copy, never installed here):
the payload came back from 4 of 32 marked pictures with no attack at all, 0 of 32 after JPEG 50,
and the cropped (230 px) and halved (128 px) pictures were refused ("image too small, should be
larger than 256x256"); PSNR 34.6-40.1 dB. Its DWT-DCT method writes each bit into a fixed 4 x 4
block grid of the Haar approximation band, anchored at the top-left pixel, with no search and no
check: a crop moves the grid, a downscale changes the blocks, and a wrong read looks like a right one.

The scheme here
---------------
A keyed, *periodic* spread-spectrum pattern added to the luma of every frame:

* one tile of :data:`TILE` x :data:`TILE` pixels (64) carries :data:`CELLS` x :data:`CELLS` cells
  (16 x 16, cells of 4 px, slightly smoothed). Each pattern is a row of a 256-point Hadamard
  matrix, columns permuted and signs flipped by the kit's key: one row is a *sync* pattern, one
  row per payload bit (sign +1 or -1). Rows are orthogonal, so bits do not disturb each other;
* the tile repeats over the whole frame (phase at the picture's top-left); the same delta is added
  to R, G and B, so only luma changes;
* *informed embedding* (:func:`embed`): the frame is first read as the detector reads it, and each
  pattern gets just the amplitude that lifts it to a common margin, the largest the power budget
  allows: the picture's own texture along a pattern is what makes a bit read wrong, and it is
  measured and answered instead of drowned. Measured on scikit-image's astronaut, coffee,
  chelsea, rocket and camera at 256 px, 16 file ids each, PSNR >= 40.4 dB either way: plain
  addition of the same power read back 79/80 pictures unattacked, 78 after JPEG 50, 78 halved,
  64 with 5 % cut from each side; informed embedding read 80/80 in all four.

Detection needs no original. The luma is high-passed (the image minus its blur), divided by its
local level (texture and edges are the host's noise, not evidence) and *folded*: every pixel is
added into the cell of its phase in one :data:`TILE` x :data:`TILE` array, the tiles cut by the
right and bottom edges included (folding whole tiles only threw away up to half of a small
picture: a 180 px crop kept 128 x 128; on 24 UTKFace photos of 200 px cut 5 % on each side the
payload came back from 22 that way, from all 24 folding every pixel, the lowest peak rising from
3.9 to 7.2); a video's sampled frames (up to
:data:`MAX_FRAMES`) are summed too, which beats a vote of per-frame decisions because weak frames
still add evidence. A crop of any size only shifts the tile cyclically: every pattern is
correlated at every cyclic shift (one FFT each) and the shift where their capped energies add up
most wins. A downscale changes the period: the detector tries :data:`SCALES` (the frame is
resized back by ``1/s`` before folding), which is what detection costs (one resize, two blurs and
a fold per scale and frame; a fixed cost per file, none at marking time). Other scales (say 0.6x)
are not searched and are not found.

A mark is reported only when (a) that energy peak stands out of the ``TILE**2`` shifts by at
least :data:`MIN_SYNC_Z` standard deviations and (b) the payload's CRC-16, keyed with the kit's
key, matches, after at most 64 flip patterns of the 6 least certain bits at the peak and 8 of the
3 least certain at each of its 8 neighbours (:func:`chase_decode`, :func:`_decide`): noise passes
(b) once in 512 reads, so (a) carries the weight. On the 1,758 shared real photos and videos the
highest peak was 5.3 (5.5 when only whole tiles were folded; no file found); on 60 generated
clips (``bench/provenance.py``) the lowest peak of a recovered payload was 6.6 as written and 6.7
to 7.0 after a 10 % crop, JPEG 50 or a halving, so the gate sits between, at 6. Between
:data:`MIN_SYNC_Z_LOW` (5) and 6 the payload must read right at the peak within :data:`LOW_TRIES`
(16) tries, fewest flips first (noise: once in 4,096 reads): a textured photo cut 5 % on each
side peaks at 5.2 with the right payload there (scikit-image's astronaut), and after H.264 CRF 28
the lowest of the 60 clips peaked at 5.1 with its payload read right that way.
``bench/provenance.py`` counts false positives.

Payload (:data:`PAYLOAD_BITS` = 32 bits): kit version byte (major << 4 | minor), an 8-bit file id,
CRC-16/CCITT over the key and those 2 bytes. Why so few: the power budget. At PSNR 40 dB the
added pattern has an RMS of 2.4 grey levels, and each extra pattern takes power from the others;
with 48 bits (plain embedding) the weakest bit of a textured 256 px photo read wrong with no
attack at all. The mark itself is the key: only the kit's patterns correlate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

import cv2
import numpy as np
from scipy.linalg import hadamard

from .. import __version__
from ..errors import DataError

TILE = 64
CELLS = 16
#: Payload bits: kit version (8) + file id (8) + CRC-16 (16). The kit's key is the mark itself.
PAYLOAD_BITS = 32
#: Luma amplitude (RMS of the added pattern, 0-255 scale): PSNR about 40 dB on 256 px frames.
STRENGTH = 2.4
#: Scales the detector tries (1 = as marked; 0.5 = downscaled to half).
SCALES = (1.0, 0.75, 2 / 3, 0.5)
#: Sync peak threshold in standard deviations of the correlation over all shifts.
MIN_SYNC_Z = 6.0
#: ... or this many, when the payload reads right at the peak within :data:`LOW_TRIES` tries.
MIN_SYNC_Z_LOW = 5.0
LOW_TRIES = 16
#: The least certain payload bits :func:`chase_decode` tries flipping (2**6 = 64 tries).
CHASE_BITS = 6
#: ... and at the 8 shifts next to the peak (2**3 tries each): 128 tries in all per read.
NEIGHBOUR_CHASE_BITS = 3
#: Each pattern's squared correlation counts up to this many standard deviations (see :func:`_decide`).
ENERGY_CAP = 1.5
KEY = b"deepfakelab provenance watermark v1"
#: Frames of a video the detector folds (evenly spaced); more cost time, rarely add evidence.
MAX_FRAMES = 24
BLUR_SIGMA = 2.0
#: Smoothing of the cell pattern (Gaussian sigma in cells): softer edges, less visible.
SMOOTH = 0.25
#: Local normalisation of the residual (Gaussian sigma, px): textured regions count less.
NORM_SIGMA = 4.0


@dataclass(frozen=True)
class Payload:
    """What the mark says: the kit made this file, with which version, and a short file id."""

    version: str
    file_id: int

    def as_dict(self) -> dict:
        return {"mark": "deepfakelab", "version": self.version, "file_id": f"{self.file_id:02x}"}

    def __str__(self) -> str:
        return f"deepfakelab {self.version}, file id {self.file_id:02x}"


@dataclass(frozen=True)
class Detection:
    """The detector's answer for one image or video."""

    found: bool
    payload: Payload | None
    sync_z: float
    scale: float
    shift: tuple[int, int]
    frames: int


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data``."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _version_byte(version: str) -> int:
    parts = [int(p) if p.isdigit() else 0 for p in (version.split(".") + ["0", "0"])[:2]]
    return (min(parts[0], 15) << 4) | min(parts[1], 15)


def file_id_for(text: str | bytes) -> int:
    """An 8-bit id from any text (the file's name and time): a hint to tell a class's fakes apart, not unique."""
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).digest()[0]


def encode_payload(file_id: int, version: str = __version__) -> np.ndarray:
    """The :data:`PAYLOAD_BITS` bits (0/1) the frames carry."""
    body = bytes([_version_byte(version), int(file_id) & 0xFF])
    data = body + crc16(KEY + body).to_bytes(2, "big")
    return np.unpackbits(np.frombuffer(data, np.uint8)).astype(np.int8)


def decode_payload(bits: np.ndarray) -> Payload | None:
    """The payload the bits spell, or ``None`` when the keyed CRC does not match."""
    data = np.packbits(np.asarray(bits, np.uint8)).tobytes()
    if crc16(KEY + data[:2]) != int.from_bytes(data[2:4], "big"):
        return None
    return Payload(f"{data[0] >> 4}.{data[0] & 15}", data[1])


@lru_cache(maxsize=1)
def _patterns() -> np.ndarray:
    """``(1 + PAYLOAD_BITS, TILE, TILE)`` float32: the sync pattern and one pattern per bit, unit RMS."""
    seed = int.from_bytes(hashlib.sha256(KEY).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    n = CELLS * CELLS
    h = hadamard(n).astype(np.float32)
    rows = rng.choice(np.arange(1, n), size=1 + PAYLOAD_BITS, replace=False)
    cells = h[rows][:, rng.permutation(n)] * rng.choice([-1.0, 1.0], size=n).astype(np.float32)
    cell = TILE // CELLS
    out = np.empty((len(rows), TILE, TILE), np.float32)
    for i, values in enumerate(cells):
        blocks = np.kron(values.reshape(CELLS, CELLS), np.ones((cell, cell), np.float32))
        wrapped = np.tile(blocks, (3, 3))  # periodic smoothing: blur a 3x3 tiling, keep the centre
        smooth = cv2.GaussianBlur(wrapped, (0, 0), cell * SMOOTH)[TILE : 2 * TILE, TILE : 2 * TILE]
        out[i] = smooth / np.sqrt(np.mean(smooth**2))
    return out


@lru_cache(maxsize=8)
def _delta(height: int, width: int, file_id: int, version: str, strength: float) -> np.ndarray:
    """The luma change for a ``height x width`` frame, float32, tiled from the top-left."""
    pats = _patterns()
    signs = encode_payload(file_id, version).astype(np.float32) * 2 - 1
    tile = pats[0] + np.tensordot(signs, pats[1:], axes=1)
    tile *= strength / np.sqrt(np.mean(tile**2))
    reps = (-(-height // TILE), -(-width // TILE))
    return np.ascontiguousarray(np.tile(tile, reps)[:height, :width])


def _check_frame(frame: np.ndarray) -> None:
    if not (
        isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    ):
        raise DataError(
            f"watermark: a frame must be a uint8 RGB array (H, W, 3), not {getattr(frame, 'dtype', type(frame))} "
            f"{getattr(frame, 'shape', '')}"
        )


def _margin_pushes(host: np.ndarray, budget: float) -> np.ndarray:
    """Per-pattern amplitudes ``max(M - host, 0)`` with the largest margin ``M`` the power budget allows.

    ``host`` is each pattern's correlation already in the picture, signed so that positive helps.
    Patterns are orthogonal with unit RMS, so the power of the sum is the sum of squares; ``M`` is
    found by bisection.
    """
    low, high = 0.0, float(np.sqrt(budget)) + float(np.max(np.abs(host)))
    for _ in range(24):
        margin = (low + high) / 2
        if np.sum(np.maximum(margin - host, 0.0) ** 2) > budget:
            high = margin
        else:
            low = margin
    return np.maximum(low - host, 0.0)


def embed(
    frame: np.ndarray, file_id: int, version: str = __version__, strength: float = STRENGTH
) -> np.ndarray:
    """``frame`` (uint8 RGB ``H x W x 3``) with the kit's mark for ``file_id`` added to its luma.

    Informed embedding: the picture's own texture along a pattern is what makes a bit read wrong,
    so the frame is first read as the detector reads it (each pattern's correlation, in units of
    pattern amplitude), and each pattern gets just what lifts it to a common margin, the largest
    that an added RMS of ``strength`` allows: a bit the picture already supports costs nothing,
    one it opposes gets more. Frames smaller than a tile get the plain pattern.
    """
    _check_frame(frame)
    file_id, strength = int(file_id) & 0xFF, float(strength)
    height, width = frame.shape[:2]
    if height < TILE or width < TILE:
        delta = _delta(height, width, file_id, version, strength)
    else:
        normalised, weight = _normalised(_luma(frame))
        response = _pattern_gain() * float(_tiles_sum(weight).sum())  # correlation per unit amplitude
        host = (_patterns().reshape(1 + PAYLOAD_BITS, -1) @ _tiles_sum(normalised).reshape(-1)) / response
        signs = np.concatenate([[1.0], encode_payload(file_id, version) * 2.0 - 1.0])
        push = _margin_pushes(signs * host, strength**2) * signs
        tile = np.tensordot(push.astype(np.float32), _patterns(), axes=1)
        delta = np.tile(tile, (-(-height // TILE), -(-width // TILE)))[:height, :width]
    return _add_luma(frame, delta)


def _add_luma(frame: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """``frame + delta`` on each channel, rounded and saturated (OpenCV's uint8 arithmetic: fast)."""
    up = cv2.cvtColor(np.rint(np.maximum(delta, 0)).astype(np.uint8), cv2.COLOR_GRAY2RGB)
    down = cv2.cvtColor(np.rint(np.maximum(-delta, 0)).astype(np.uint8), cv2.COLOR_GRAY2RGB)
    return cv2.subtract(cv2.add(np.ascontiguousarray(frame), up), down)


def embed_frames(
    frames: Iterable[np.ndarray], file_id: int, version: str = __version__, strength: float = STRENGTH
) -> list[np.ndarray]:
    """Every frame of a video marked with the same payload."""
    return [embed(f, file_id, version, strength) for f in frames]


def _luma(frame: np.ndarray) -> np.ndarray:
    """BT.601 luma as float32 (OpenCV's uint8 conversion: rounding costs 0.3 grey levels RMS, nothing here)."""
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY).astype(np.float32)


def _normalised(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The detector's view of a luma plane: high-passed and divided by its local level; and ``1/level``."""
    residual = luma - cv2.GaussianBlur(luma, (0, 0), BLUR_SIGMA)
    # texture and edges are the host's noise, not evidence: divide by the local residual level
    weight = 1.0 / (np.sqrt(cv2.GaussianBlur(residual * residual, (0, 0), NORM_SIGMA)) + 1.0)
    return residual * weight, weight


def _tiles_sum(plane: np.ndarray) -> np.ndarray:
    """Every pixel of ``plane`` added into the ``TILE x TILE`` cell of its phase (``y % TILE, x % TILE``):
    the tiles cut by the right and bottom edges count too, so a 180 px crop folds all its pixels, not 128 x 128."""
    height, width = plane.shape
    rows, cols = -(-height // TILE), -(-width // TILE)
    if (rows * TILE, cols * TILE) != (height, width):
        padded = np.zeros((rows * TILE, cols * TILE), plane.dtype)
        padded[:height, :width] = plane
        plane = padded
    return plane.reshape(rows, TILE, cols, TILE).sum(axis=(0, 2))


def _fold(luma: np.ndarray, scale: float) -> np.ndarray | None:
    """The normalised residual, resized by ``1/scale``, folded (``None``: smaller than one tile)."""
    if scale != 1.0:
        h, w = luma.shape
        luma = cv2.resize(luma, (int(round(w / scale)), int(round(h / scale))), interpolation=cv2.INTER_CUBIC)
    if luma.shape[0] < TILE or luma.shape[1] < TILE:
        return None
    return _tiles_sum(_normalised(luma)[0])


@lru_cache(maxsize=1)
def _pattern_gain() -> float:
    """How much of a pattern survives the detector's high-pass (per unit amplitude, per pixel)."""
    pattern = _patterns()[0]
    wrapped = np.tile(pattern, (3, 3))
    passed = (wrapped - cv2.GaussianBlur(wrapped, (0, 0), BLUR_SIGMA))[TILE : 2 * TILE, TILE : 2 * TILE]
    return float(np.mean(passed * pattern))


@lru_cache(maxsize=1)
def _pattern_spectra() -> np.ndarray:
    return np.conj(np.fft.rfft2(_patterns()))


def _decide(folded: np.ndarray) -> tuple[float, tuple[int, int], Payload | None, int]:
    """Sync z-score, the tile shift, the payload read there, and how many candidate bit patterns
    were tried before the CRC matched (1: the hard decisions at the peak; more: flips, neighbours).

    Every pattern's correlation with the folded tile is computed at every cyclic shift (one FFT
    each); the shift is where their summed (capped) energy peaks, so all of the mark's power, not
    the sync's share alone, finds the alignment. The sync row's own sign is not required: it is
    one pattern among 33 and, like a bit, can read wrong after H.264 (seen) while the CRC-checked
    payload reads right. Compression can move the peak by a pixel (seen after H.264 CRF 28: the
    payload read right one pixel away), so the 8 neighbours are read too, with fewer flips
    (:data:`NEIGHBOUR_CHASE_BITS`).
    """
    corr = np.fft.irfft2(np.fft.rfft2(folded)[None] * _pattern_spectra(), s=folded.shape)
    # each pattern's share capped: a picture's own structure makes a few patterns correlate strongly
    # at some shift, the mark makes all of them correlate moderately at one
    cap = (ENERGY_CAP * float(corr.std())) ** 2
    energy = np.sum(np.minimum(corr**2, cap), axis=0)
    dy, dx = np.unravel_index(int(np.argmax(energy)), energy.shape)
    z = float((energy[dy, dx] - energy.mean()) / (energy.std() + 1e-12))
    size = folded.shape[0]
    around = sorted(
        ((int((dy + a) % size), int((dx + b) % size)) for a in (-1, 0, 1) for b in (-1, 0, 1) if a or b),
        key=lambda at: -energy[at],
    )
    tried = 0
    for k, (y, x) in enumerate([(int(dy), int(dx))] + around):
        payload, tries = chase_decode(corr[1:, y, x], CHASE_BITS if k == 0 else NEIGHBOUR_CHASE_BITS)
        tried += tries
        if payload is not None:
            return z, (y, x), payload, tried
    return z, (int(dy), int(dx)), None, tried


def chase_decode(soft: np.ndarray, weakest: int = CHASE_BITS) -> tuple[Payload | None, int]:
    """The payload from soft bit values and the tries it took: hard decisions first, then flips of
    the ``weakest`` least certain bits, fewest bits first (Chase decoding, up to 2**weakest tries).
    The CRC picks the answer; each try costs the check a factor in false matches, which the sync
    gate covers (see :func:`detect_frames`)."""
    hard = (soft > 0).astype(np.uint8)
    order = np.argsort(np.abs(soft))[:weakest]
    for tries, flips in enumerate(_flip_order(weakest), start=1):
        bits = hard.copy()
        for k, i in enumerate(order):
            if flips >> k & 1:
                bits[i] ^= 1
        payload = decode_payload(bits)
        if payload is not None:
            return payload, tries
    return None, 2**weakest


@lru_cache(maxsize=8)
def _flip_order(weakest: int) -> tuple[int, ...]:
    """Flip masks over the ``weakest`` bits: fewer flips first, then the less certain bits first."""
    return tuple(sorted(range(2**weakest), key=lambda mask: (bin(mask).count("1"), mask)))


def detect_frames(
    frames: Sequence[np.ndarray] | np.ndarray, scales: Sequence[float] = SCALES, max_frames: int = MAX_FRAMES
) -> Detection:
    """Look for the kit's mark in one image (a list of one) or a video's frames.

    Up to ``max_frames`` evenly spaced frames are folded together at each of ``scales``; the
    scale whose sync peak stands out most decides.
    """
    n = len(frames)
    if n == 0:
        raise DataError("watermark: no frames to look at")
    picks = np.unique(np.linspace(0, n - 1, min(n, max_frames)).round().astype(int))
    lumas = []
    for i in picks:
        _check_frame(frames[i])
        lumas.append(_luma(frames[i]))
    best = Detection(False, None, -np.inf, 1.0, (0, 0), len(picks))
    for scale in scales:
        folds = [f for f in (_fold(y, scale) for y in lumas) if f is not None]
        if not folds:
            continue
        z, shift, payload, tried = _decide(np.sum(folds, axis=0))
        found = payload is not None and (z >= MIN_SYNC_Z or (z >= MIN_SYNC_Z_LOW and tried <= LOW_TRIES))
        if (found, z) > (best.found, best.sync_z):
            best = Detection(found, payload if found else None, z, scale, shift, len(picks))
    return best


def detect(frame: np.ndarray, scales: Sequence[float] = SCALES) -> Detection:
    """:func:`detect_frames` for one picture."""
    return detect_frames([frame], scales)

"""One picture through H.264 and back, in memory: what a video codec does to a face.

Why the detector needs it: real talking-head videos reach it H.264-compressed, and JPEG is not the
same damage. H.264 quantises 4x4 and 8x8 transforms of a prediction and then smooths block edges
with its deblocking filter, so fine skin texture turns into soft, flat patches. A detector that
has only seen H.264 on a few people's videos learns "H.264 look" as a sign of a fake. Measured
on 120 real test photos (the kit's real-face detector trained without this step,
``runs/real-mnv2-f24``, 2026-12-07): mean P(fake) 0.23 as they are, 0.26 after JPEG 50, 0.38
after H.264 at CRF 28 and 0.58 at CRF 35. Training with this round trip on both classes
(:func:`deepfakelab.detect.dataset.augment`) shows the network the codec's damage on real and
fake faces alike.

PyAV (``pip install av``: FFmpeg's libraries with libx264, in its wheel) encodes in memory, about
9 ms a 128-px face. The kit's other video code runs the ``imageio-ffmpeg`` binary instead, but a
new process per face would cost 50 ms or more. PyAV is optional and needed only for training:
:func:`h264_available` says whether it is installed.
"""

from __future__ import annotations

import io

import numpy as np

from ..errors import ConfigError

#: The constant rate factors drawn from: 18 looks untouched, 23 is x264's default, 35 is a
#: heavily compressed upload.
CRF_RANGE = (18, 36)


def h264_available() -> bool:
    """Whether PyAV with libx264 is installed (the training recipe's H.264 step needs it)."""
    try:
        import av  # deferred: optional, training only (module docstring)
    except ImportError:
        return False
    return "libx264" in av.codecs_available


def require_h264(share: float) -> None:
    """Where a share > 0 of the faces will go through H.264, stop with the one line that says how
    to install PyAV if it is missing: before any long work needs it."""
    if share and not h264_available():
        raise ConfigError("--h264 needs PyAV with libx264: pip install av")


def h264_round_trip(image: np.ndarray, crf: int) -> np.ndarray:
    """``image (H, W, 3)`` uint8 RGB encoded as a one-frame H.264 video at constant rate factor
    ``crf`` (4:2:0 chroma, x264's ``veryfast`` preset) and decoded again; odd sides are padded by
    one pixel for the codec and cropped back."""
    import av  # deferred: optional, training only (module docstring)

    height, width = image.shape[:2]
    padded = np.pad(image, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height = padded.shape[1], padded.shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(int(crf)), "preset": "veryfast"}
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(padded), format="rgb24")
        for packet in (*stream.encode(frame), *stream.encode()):
            container.mux(packet)
    buffer.seek(0)
    with av.open(buffer) as container:
        decoded = next(container.decode(video=0)).to_ndarray(format="rgb24")
    return np.ascontiguousarray(decoded[:height, :width])

"""Animate a source image with the motion of driving frames (the fast path).

The published demo calls the keypoint detector and the whole generator once per driving frame,
re-encoding the unchanged source every time. Here the source is encoded once (its keypoints,
feature map and down-sampled copy are cached in :class:`EncodedSource`) and the driving frames go
through the networks in batches, on an :mod:`engine <deepfakelab.reenact.fomm.engines>`: torch (under
``torch.inference_mode``, channels-last weights and activations, up-sampling plus 3x3 convolution
as one transposed convolution, :class:`~deepfakelab.reenact.fomm.modules.blocks.fast_upsampling`), or an
inference engine running the exported graphs. The numbers are the same as the per-frame loop's
up to float rounding (``bench/reenact.py`` measures the agreement and the speed-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from ...faces.landmarks import find_best_frame
from .engine_base import Engine
from .engines import EngineError, fastest_engine, get_engine
from .keypoints import Keypoints
from .model import FirstOrderModel
from .modules.blocks import fast_upsampling
from .modules.generator import SourceEncoding
from .motion_transfer import transfer_motion

#: ``transfer(kp_source, kp_driving, kp_initial) -> Keypoints``: how driving motion reaches the source.
MotionTransfer = Callable[[Keypoints, Keypoints, Keypoints], Keypoints]


@dataclass
class Animation:
    """Animated frames ``(N, 3, H, W)`` in [0, 1] and the keypoints behind them, ``[-1, 1]`` coordinates:
    ``kp_source (K, 2)``, ``kp_driving (N, K, 2)``, ``kp_transferred (N, K, 2)`` (where the source's
    keypoints were moved to), and the index of the initial driving frame."""

    frames: torch.Tensor
    kp_source: torch.Tensor
    kp_driving: torch.Tensor
    kp_transferred: torch.Tensor
    initial_frame: int


@dataclass
class EncodedSource:
    """A source image prepared once for animation: its keypoints and generator encoding."""

    keypoints: Keypoints
    encoding: SourceEncoding


def to_image_tensor(image, name: str = "image") -> torch.Tensor:
    """``(H, W, 3)`` uint8 / float-in-[0, 1] array, or ``(3, H, W)`` / ``(1, 3, H, W)`` tensor -> ``(1, 3, H, W)`` float32."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"{name}: expected an (H, W, 3) RGB array, got shape {image.shape}")
        array = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
        image = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"{name}: expected a numpy array or a torch tensor, got {type(image).__name__}")
    if image.ndim == 3:
        image = image.unsqueeze(0)
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"{name}: expected (3, H, W) or (1, 3, H, W), got {tuple(image.shape)}")
    return image.float()


def to_frames_tensor(frames) -> torch.Tensor:
    """Driving frames as ``(N, 3, H, W)`` float32 in [0, 1] from a tensor, an ``(N, H, W, 3)`` array or a list of images."""
    if isinstance(frames, torch.Tensor):
        if frames.ndim != 4 or frames.shape[1] != 3:
            raise ValueError(f"driving frames: expected (N, 3, H, W), got {tuple(frames.shape)}")
        return frames.float()
    if isinstance(frames, np.ndarray) and frames.ndim == 4:
        frames = list(frames)
    return torch.cat([to_image_tensor(frame, f"driving frame {i}") for i, frame in enumerate(frames)])


@torch.inference_mode()
def encode_source(model: FirstOrderModel, source_image: torch.Tensor) -> EncodedSource:
    """Run the keypoint detector and the generator's encoder on the source, once."""
    source_image = source_image.to(_device(model))
    return EncodedSource(model.kp_detector(source_image), model.generator.encode(source_image))


def animate(
    source_image,
    driving_frames,
    model: FirstOrderModel,
    relative: bool = True,
    adapt_movement_scale: bool = True,
    best_frame: int | str | None = None,
    batch_size: int = 4,
    progress: bool = True,
    transfer: MotionTransfer | None = None,
    engine: str = "torch",
) -> torch.Tensor:
    """Animate ``source_image`` with the motion of ``driving_frames``.

    source_image: ``(H, W, 3)`` array (uint8, or float in [0, 1]) or ``(3, H, W)`` tensor in [0, 1].
    driving_frames: ``(N, 3, H, W)`` tensor in [0, 1], or ``N`` images as above. The side ``H``
    must suit the model's config (256 for vox-256); crop and resize faces first (see
    :mod:`deepfakelab.faces`).
    relative: transfer the driving keypoints' motion since the initial frame (True, the default)
    or use the driving keypoints as they are (absolute motion).
    adapt_movement_scale: scale relative motion by the ratio of the faces' sizes.
    best_frame: the driving frame whose pose matches the source (the initial frame of relative
    motion); ``None`` is frame 0; ``"auto"`` picks the frame whose face landmarks are closest
    to the source's (the published demo's ``--find_best_frame``, with MTCNN landmarks). The
    published demo then animates forwards and backwards from that frame; since every frame depends
    only on itself and the initial frame, that is exactly animating all frames with this initial
    frame, which is what happens here.
    transfer: replaces :func:`~deepfakelab.reenact.fomm.motion_transfer.transfer_motion`, called as
    ``transfer(kp_source, kp_driving_batch, kp_initial)``; Lab 1 plugs the student's own relative
    motion in here (``relative`` and ``adapt_movement_scale`` are then the callable's business).
    engine: where the networks run (:mod:`~deepfakelab.reenact.fomm.engines`): ``"torch"`` (the
    default), ``"onnxruntime"`` or ``"openvino"`` (optional extras, CPU only; the first call with
    a checkpoint and frame size exports it to ONNX, about 10 s for vox-256, cached next to the
    checkpoint), or ``"auto"``: the fastest installed one whose first batch agrees with torch's
    (:data:`~.engines.AUTO_AGREEMENT`), timed on that batch (torch on CUDA).

    Returns ``(N, 3, H, W)`` float32 in [0, 1] on the CPU.
    """
    return animate_with_keypoints(
        source_image,
        driving_frames,
        model,
        relative,
        adapt_movement_scale,
        best_frame,
        batch_size,
        progress,
        transfer,
        engine,
    ).frames


def animate_with_keypoints(
    source_image,
    driving_frames,
    model: FirstOrderModel,
    relative: bool = True,
    adapt_movement_scale: bool = True,
    best_frame: int | str | None = None,
    batch_size: int = 4,
    progress: bool = True,
    transfer: MotionTransfer | None = None,
    engine: str = "torch",
) -> Animation:
    """Like :func:`animate`, also returning the keypoints (for drawing them): an :class:`Animation`."""
    source = to_image_tensor(source_image, "source image")
    frames = to_frames_tensor(driving_frames)
    if len(frames) == 0:
        raise ValueError("driving_frames is empty: nothing to animate")
    initial_index = resolve_best_frame(best_frame, source, frames)

    model.eval()
    outputs, transferred = [], []
    with torch.inference_mode(), channels_last(model), fast_upsampling(model):
        encoded = encode_source(model, source.contiguous(memory_format=torch.channels_last))
        frames = frames.contiguous(memory_format=torch.channels_last)
        runner = choose_engine(engine, model, encoded, frames, batch_size)
        kp_driving = runner.keypoints(frames)
        kp_initial = kp_driving.take(initial_index)
        starts = range(0, len(frames), batch_size)
        for start in tqdm(starts, desc=f"animating ({runner.name})", unit="batch", disable=not progress):
            kp_batch = kp_driving.take(slice(start, start + batch_size))
            if transfer is None:
                kp_norm = transfer_motion(
                    encoded.keypoints, kp_batch, kp_initial, relative, adapt_movement_scale
                )
            else:
                kp_norm = transfer(encoded.keypoints, kp_batch, kp_initial)
            outputs.append(runner.decode(encoded.encoding, encoded.keypoints, kp_norm).cpu())
            transferred.append(kp_norm.value.cpu())
    return Animation(
        frames=torch.cat(outputs),
        kp_source=encoded.keypoints.value[0].cpu(),
        kp_driving=kp_driving.value.cpu(),
        kp_transferred=torch.cat(transferred),
        initial_frame=initial_index,
    )


def choose_engine(
    name: str, model: FirstOrderModel, encoded: EncodedSource, frames: torch.Tensor, batch_size: int
) -> Engine:
    """The engine ``name`` (see :func:`animate`); ``"auto"`` times the installed ones on the first batch."""
    height, size = frames.shape[-2:]
    if height != size and name != "torch":
        if name == "auto":
            return get_engine("torch", model, size, batch_size)
        raise EngineError(
            f"engine={name!r} runs square frames (the exported graphs' size), got {height} x {size}"
        )
    if name != "auto":
        return get_engine(name, model, size, batch_size)

    def first_batch(engine: Engine):  # absolute motion: the trial's outputs are thrown away
        return engine.decode(encoded.encoding, encoded.keypoints, engine.keypoints(frames[:batch_size]))

    return fastest_engine(model, size, batch_size, first_batch)


class channels_last:  # noqa: N801 (used like a function: ``with channels_last(model):``)
    """Context manager: hold the model's 4-D weights in channels-last (NHWC) layout, then restore.

    oneDNN's CPU convolutions run about 10 % faster on NHWC weights and activations (measured on
    vox-256); the values are unchanged. Parameters keep their identity (optimisers still hold them).
    """

    def __init__(self, model: torch.nn.Module):
        self.model = model

    def __enter__(self):
        weights = [p for p in self.model.parameters() if p.dim() == 4]
        self.was_channels_last = bool(weights) and weights[0].is_contiguous(memory_format=torch.channels_last)
        self.model.to(memory_format=torch.channels_last)
        return self

    def __exit__(self, *exc):
        if not self.was_channels_last:
            self.model.to(memory_format=torch.contiguous_format)


def resolve_best_frame(best_frame: int | str | None, source: torch.Tensor, frames: torch.Tensor) -> int:
    """The index of the initial driving frame (see :func:`animate`)."""
    if best_frame is None:
        return 0
    if best_frame == "auto":
        return find_best_frame(_to_uint8(source[0]), [_to_uint8(frame) for frame in frames])
    if isinstance(best_frame, (int, np.integer)) and -len(frames) <= best_frame < len(frames):
        return int(best_frame) % len(frames)
    raise ValueError(f"best_frame={best_frame!r}: use None, 'auto' or a frame index below {len(frames)}")


def animate_per_frame(
    source_image, driving_frames, model: FirstOrderModel, relative=True, adapt_movement_scale=True
) -> torch.Tensor:
    """The published demo's loop: every frame runs the keypoint detector and the whole generator.

    Kept as the baseline for ``bench/reenact.py`` and as a readable reference; use :func:`animate`.
    Computes in the model's dtype (the bench runs it in float64 as the exact reference).
    """
    dtype = next(model.parameters()).dtype
    source = to_image_tensor(source_image, "source image").to(dtype)
    frames = to_frames_tensor(driving_frames).to(dtype)
    outputs = []
    with torch.no_grad():
        kp_source = model.kp_detector(source)
        kp_initial = model.kp_detector(frames[:1])
        for frame in frames.split(1):
            kp_driving = model.kp_detector(frame)
            kp_norm = transfer_motion(kp_source, kp_driving, kp_initial, relative, adapt_movement_scale)
            outputs.append(model.generator(source, kp_driving=kp_norm, kp_source=kp_source).prediction)
    return torch.cat(outputs)


def to_uint8_frames(frames: torch.Tensor) -> np.ndarray:
    """``(N, 3, H, W)`` in [0, 1] -> ``(N, H, W, 3)`` uint8, for writing videos."""
    return (frames.clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255 + 0.5).astype(np.uint8)


def _to_uint8(image: torch.Tensor) -> np.ndarray:
    return to_uint8_frames(image.unsqueeze(0))[0]


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device

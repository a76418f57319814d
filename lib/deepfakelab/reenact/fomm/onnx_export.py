"""The kit's FOMM as two ONNX graphs, for inference engines; exported once, cached on disk.

Inference engines (ONNX Runtime, OpenVINO) ship native CPU convolution kernels that torch's
eager mode cannot reach, but they run graphs, not Python. Animation needs two: the keypoint
detector (``image -> kp value, jacobian``) and the generator's decoder with its dense motion
network (encoded source + source and driving keypoints -> prediction). The source's encoding
and the motion transfer stay in torch: they run once per video, or are the student's own code.

Both graphs are traced from the kit's own modules in eval mode (``torch.onnx.export``'s
TorchScript exporter, opset 17, the first with ``GridSample``) at a fixed frame size and batch:
the traced dense motion network bakes its batch into reshapes, and fixed shapes are what the
engines optimise best. The one operator ONNX lacks, the inverse of the 2x2 keypoint jacobians,
is written out as its closed form (:func:`_inverse_2x2`).

Exports are cached next to the model's checkpoint (``vox-cpk.pth.tar.engines/``), or in the
user's cache folder when the checkpoint's folder is not writable or the model came from no
file, under a key made of the weights' SHA-256, the kit's version, the frame size and the batch:
changed weights or a new kit version export afresh (and, next to a checkpoint, replace the old
files).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ... import __version__
from ...errors import DeepfakeLabError
from .modules.blocks import fast_upsampling
from .modules.generator import SourceEncoding
from .keypoints import Keypoints
from .model import FirstOrderModel

#: ONNX opset of the exported graphs: 16 brought ``GridSample``; 17 is what both engines run best.
OPSET = 17
#: Environment variable that overrides the user cache folder.
CACHE_ENV = "DEEPFAKELAB_CACHE"


@dataclass(frozen=True)
class ExportedGraphs:
    """Paths of the two exported graphs and the fixed shapes they were traced at."""

    kp_detector: Path
    generator: Path
    size: int
    batch_size: int


def weights_digest(model: FirstOrderModel) -> str:
    """SHA-256 of the model's config and of every tensor of both networks (names, shapes, bytes).

    This is the checkpoint's hash as far as animation is concerned: the weights it loaded, and
    any change made to them since (training, ``calibrate_batchnorm``), give a new digest. About
    0.3 s for vox-256's 60 M parameters.
    """
    digest = hashlib.sha256(repr(sorted(model.config.to_dict().items())).encode())
    for prefix, module in (("kp_detector", model.kp_detector), ("generator", model.generator)):
        for name, tensor in module.state_dict().items():
            tensor = tensor.detach().cpu().contiguous()
            digest.update(f"{prefix}.{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
            digest.update(memoryview(tensor.numpy()).cast("B") if tensor.numel() else b"")
    return digest.hexdigest()


def user_cache_dir() -> Path:
    """``$DEEPFAKELAB_CACHE``, else ``$XDG_CACHE_HOME/deepfakelab``, else ``~/.cache/deepfakelab``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA") or Path.home() / ".cache"
    return Path(base) / "deepfakelab"


def export_key(digest: str, size: int, batch_size: int, transposed_upsampling: bool = False) -> str:
    """The cache entry's folder name: weights, kit version, frame size, batch (and the up-sampling's form)."""
    return f"{digest[:16]}-kit{__version__}-{size}px-batch{batch_size}" + (
        "-tconv" if transposed_upsampling else ""
    )


def export_graphs(
    model: FirstOrderModel,
    size: int,
    batch_size: int,
    digest: str | None = None,
    transposed_upsampling: bool = False,
) -> ExportedGraphs:
    """The model's two graphs for ``size`` x ``size`` frames in batches of ``batch_size``: cached, or exported now.

    ``transposed_upsampling`` traces up-sampling plus convolution as one transposed convolution
    (:class:`~deepfakelab.reenact.fomm.modules.blocks.fast_upsampling`), which some engines run faster.
    Exporting vox-256 takes about 8 s; a cached export is found in microseconds.
    """
    digest = digest or weights_digest(model)
    key = export_key(digest, size, batch_size, transposed_upsampling)
    folder = _writable_folder(_checkpoint_folder(model)) or _writable_folder(user_cache_dir() / "engines")
    if folder is None:
        raise DeepfakeLabError(
            f"no writable folder for the ONNX export (tried next to the checkpoint and "
            f"{user_cache_dir()}): set {CACHE_ENV} to one"
        )
    graphs = ExportedGraphs(
        folder / key / "kp_detector.onnx", folder / key / "generator.onnx", size, batch_size
    )
    if graphs.kp_detector.is_file() and graphs.generator.is_file():
        return graphs
    entry = graphs.kp_detector.parent
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=f".{key}."))
    try:
        _export(
            model,
            size,
            batch_size,
            staging / "kp_detector.onnx",
            staging / "generator.onnx",
            transposed_upsampling,
        )
        if entry.exists():  # a half-written entry from an interrupted run
            shutil.rmtree(entry)
        os.replace(staging, entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if folder != user_cache_dir() / "engines":
        _remove_stale_exports(folder, keep=key)
    return graphs


def _checkpoint_folder(model: FirstOrderModel) -> Path | None:
    path = getattr(model, "checkpoint_path", None)
    return None if path is None else Path(path).parent / f"{Path(path).name}.engines"


def _writable_folder(folder: Path | None) -> Path | None:
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return None
    return folder


def _remove_stale_exports(folder: Path, keep: str) -> None:
    """Next to a checkpoint, exports of other weights or kit versions (same shapes and form) are stale."""
    shapes = keep.split("-", 2)[2]
    for entry in folder.iterdir():
        if (
            entry.is_dir()
            and entry.name != keep
            and entry.name.endswith(f"-{shapes}")
            and not entry.name.startswith(".")
        ):
            shutil.rmtree(entry, ignore_errors=True)


class _KeypointGraph(nn.Module):
    """``image (B, C, S, S) -> value (B, K, 2)[, jacobian (B, K, 2, 2)]``."""

    def __init__(self, kp_detector: nn.Module):
        super().__init__()
        self.kp_detector = kp_detector

    def forward(self, image: torch.Tensor):
        keypoints = self.kp_detector(image)
        return keypoints.value if keypoints.jacobian is None else (keypoints.value, keypoints.jacobian)


class _DecoderGraph(nn.Module):
    """The generator after encoding: ``(features, source_small, kp_source_*, kp_driving_*) -> prediction``."""

    def __init__(self, generator: nn.Module, input_names: list[str]):
        super().__init__()
        self.generator = generator
        self.input_names = input_names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        named = dict(zip(self.input_names, inputs))
        encoding = SourceEncoding(image=None, small=named.get("source_small"), features=named["features"])
        kp_source = Keypoints(named["kp_source_value"], named.get("kp_source_jacobian"))
        kp_driving = Keypoints(named["kp_driving_value"], named.get("kp_driving_jacobian"))
        return self.generator.decode(encoding, kp_driving=kp_driving, kp_source=kp_source).prediction


def _example_inputs(model: FirstOrderModel, size: int, batch_size: int):
    """Tracing inputs of the right shapes; identity jacobians, so the traced inverse is defined."""
    channels = model.config.common_params.num_channels
    image = torch.rand(batch_size, channels, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        encoding = model.generator.encode(image[:1])
        keypoints = model.kp_detector(image[:1])
    num_kp = keypoints.value.shape[1]
    identity = torch.eye(2).expand(1, num_kp, 2, 2).contiguous()
    named = {"features": encoding.features}
    if encoding.small is not None:
        named["source_small"] = encoding.small
    named["kp_source_value"] = keypoints.value
    named["kp_driving_value"] = keypoints.value.expand(batch_size, -1, -1).contiguous()
    if keypoints.jacobian is not None:
        named["kp_source_jacobian"] = identity
        named["kp_driving_jacobian"] = identity.expand(batch_size, -1, -1, -1).contiguous()
    return image, keypoints.jacobian is not None, named


def _export(
    model: FirstOrderModel,
    size: int,
    batch_size: int,
    kp_path: Path,
    generator_path: Path,
    transposed_upsampling: bool = False,
) -> None:
    training = [module.training for module in model.modules()]
    try:
        model.eval()
        image, has_jacobian, named = _example_inputs(model, size, batch_size)
        kp_outputs = ["value", "jacobian"] if has_jacobian else ["value"]
        names = list(named)
        with _tracing(), fast_upsampling(model, enabled=transposed_upsampling):
            torch.onnx.export(
                _KeypointGraph(model.kp_detector).eval(),
                (image,),
                str(kp_path),
                dynamo=False,
                opset_version=OPSET,
                input_names=["image"],
                output_names=kp_outputs,
            )
            torch.onnx.export(
                _DecoderGraph(model.generator, names).eval(),
                tuple(named.values()),
                str(generator_path),
                dynamo=False,
                opset_version=OPSET,
                input_names=names,
                output_names=["prediction"],
            )
    finally:
        for module, mode in zip(model.modules(), training):
            module.training = mode


@contextlib.contextmanager
def _tracing():
    """Quiet tracing with the 2x2 inverse registered, unregistered afterwards (torch's registry is global)."""
    torch.onnx.register_custom_op_symbolic("aten::linalg_inv", _inverse_2x2, OPSET)
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter(
                "ignore"
            )  # TracerWarnings about shapes baked in, exporter deprecation notes
            yield
    finally:
        torch.onnx.unregister_custom_op_symbolic("aten::linalg_inv", OPSET)


def _inverse_2x2(g, matrix):
    """ONNX has no matrix inverse; a batch of 2x2 matrices ``[[a, b], [c, d]]`` inverts to ``[[d, -b], [-c, a]] / (ad - bc)``."""

    rows = g.op("Split", matrix, axis_i=-2, outputs=2)
    (a, b), (c, d) = (g.op("Split", row, axis_i=-1, outputs=2) for row in rows)
    determinant = g.op("Sub", g.op("Mul", a, d), g.op("Mul", b, c))  # (..., 1, 1)
    top = g.op("Concat", d, g.op("Neg", b), axis_i=-1)
    bottom = g.op("Concat", g.op("Neg", c), a, axis_i=-1)
    return g.op("Div", g.op("Concat", top, bottom, axis_i=-2), determinant)

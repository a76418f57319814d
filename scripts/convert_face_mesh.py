"""Convert MediaPipe's 468-point face landmark model (.tflite) into the kit's torch weights.

    pip download --no-deps mediapipe==0.10.21 -d /tmp/mp     # any platform's wheel holds the model
    pip install tflite                                      # the .tflite parser (extra "convert")
    python scripts/convert_face_mesh.py /tmp/mp/mediapipe-0.10.21-*.whl

reads ``mediapipe/modules/face_landmark/face_landmark.tflite`` from the wheel (or a ``.tflite``
path given directly), walks its graph from the input, matches each of its layers to one layer of
:class:`deepfakelab.faces.mesh_model.FaceMeshNet` (checking strides, paddings and shapes on the
way), and writes ``lib/deepfakelab/assets/face_mesh.pth``. It prints the sha256 of the source
file for ``assets/README.md``.

The model stores its weights as float16 (with DEQUANTIZE ops in front of every layer), so
float16 weights here are the same numbers, not a rounding; a weight in any other type is kept
as float32.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

try:
    import tflite
except ImportError:  # pragma: no cover - a developer tool
    sys.exit(
        "convert_face_mesh: needs the `tflite` parser: pip install tflite  (or pip install -e .[convert])"
    )

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from deepfakelab.faces.mesh_model import FaceMeshNet, ResidualBlock  # noqa: E402

MODEL_IN_WHEEL = "mediapipe/modules/face_landmark/face_landmark.tflite"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "lib" / "deepfakelab" / "assets" / "face_mesh.pth"
SAME, VALID = tflite.Padding.SAME, tflite.Padding.VALID
OP_NAMES = {code: name for name, code in vars(tflite.BuiltinOperator).items() if not name.startswith("_")}


def read_model_bytes(path: Path) -> bytes:
    """The .tflite bytes, from the file itself or from inside a mediapipe wheel."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            try:
                return wheel.read(MODEL_IN_WHEEL)
            except KeyError:
                sys.exit(
                    f"{path}: no {MODEL_IN_WHEEL} inside; use mediapipe==0.10.21 (later wheels ship no models)"
                )
    return path.read_bytes()


class TfliteGraph:
    """The operators and tensors of a one-subgraph .tflite model, with the float16 weights
    dequantized: ``weight(op, i)`` is the constant behind the op's ``i``-th input."""

    def __init__(self, data: bytes):
        self.model = tflite.Model.GetRootAsModel(data, 0)
        self.graph = self.model.Subgraphs(0)
        self.ops = [self.graph.Operators(i) for i in range(self.graph.OperatorsLength())]
        self.consumers: dict[int, list] = defaultdict(list)
        self.producer: dict[int, object] = {}
        for op in self.ops:
            for j in range(op.InputsLength()):
                self.consumers[op.Inputs(j)].append(op)
            for j in range(op.OutputsLength()):
                self.producer[op.Outputs(j)] = op
        self.used_weights: set[int] = set()
        self.weight_types: set[str] = set()

    def kind(self, op) -> str:
        code = self.model.OperatorCodes(op.OpcodeIndex())
        return OP_NAMES[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]

    def name(self, tensor: int) -> str:
        return self.graph.Tensors(tensor).Name().decode()

    def shape(self, tensor: int) -> tuple[int, ...]:
        return tuple(int(v) for v in self.graph.Tensors(tensor).ShapeAsNumpy())

    def weight(self, op, index: int) -> np.ndarray:
        tensor = op.Inputs(index)
        source = self.producer.get(tensor)
        if source is not None and self.kind(source) == "DEQUANTIZE":
            tensor = source.Inputs(0)
        info = self.graph.Tensors(tensor)
        dtype = {tflite.TensorType.FLOAT16: np.float16, tflite.TensorType.FLOAT32: np.float32}[info.Type()]
        self.weight_types.add(np.dtype(dtype).name)
        self.used_weights.add(tensor)
        raw = self.model.Buffers(info.Buffer()).DataAsNumpy()
        return np.frombuffer(raw.tobytes(), dtype).reshape(self.shape(tensor)).astype(np.float32)

    def only_consumer(self, tensor: int, kind: str, choose=None):
        candidates = [op for op in self.consumers[tensor] if self.kind(op) == kind]
        if choose is not None:
            candidates = [op for op in candidates if choose(op)]
        if len(candidates) != 1:
            raise ValueError(f"{self.name(tensor)}: expected one {kind} after it, found {len(candidates)}")
        return candidates[0]

    def reaches(self, tensor: int, target: int) -> bool:
        seen, todo = set(), [tensor]
        while todo:
            current = todo.pop()
            if current == target:
                return True
            if current in seen:
                continue
            seen.add(current)
            todo.extend(op.Outputs(0) for op in self.consumers[current])
        return False


def options(op, kind):
    table = op.BuiltinOptions()
    result = kind()
    result.Init(table.Bytes, table.Pos)
    return result


class Converter:
    """Walks the tflite graph along :class:`FaceMeshNet`'s layers, filling a torch state dict."""

    def __init__(self, graph: TfliteGraph):
        self.g = graph
        self.state: dict[str, torch.Tensor] = {}

    def conv(self, prefix: str, op, stride: int, padding: int, depthwise: bool = False) -> int:
        want = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
        if self.g.kind(op) != want:
            raise ValueError(f"{prefix}: expected {want}, found {self.g.kind(op)}")
        opts = options(op, tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)
        got = (opts.StrideH(), opts.StrideW(), opts.Padding(), opts.FusedActivationFunction())
        if got != (stride, stride, padding, tflite.ActivationFunctionType.NONE):
            raise ValueError(
                f"{prefix}: stride/padding/activation {got}, expected {(stride, stride, padding, 0)}"
            )
        kernel = self.g.weight(op, 1)
        # tflite: conv (out, kh, kw, in), depthwise (1, kh, kw, channels); torch: (out, in/groups, kh, kw)
        kernel = kernel.transpose(3, 0, 1, 2) if depthwise else kernel.transpose(0, 3, 1, 2)
        self.put(f"{prefix}.weight", kernel)
        self.put(f"{prefix}.bias", self.g.weight(op, 2))
        return op.Outputs(0)

    def prelu(self, prefix: str, tensor: int) -> int:
        op = self.g.only_consumer(tensor, "PRELU")
        self.put(f"{prefix}.weight", self.g.weight(op, 1).reshape(-1))
        return op.Outputs(0)

    def put(self, key: str, value: np.ndarray) -> None:
        if key in self.state:
            raise ValueError(f"{key}: filled twice")
        self.state[key] = torch.from_numpy(np.ascontiguousarray(value))

    def block(self, prefix: str, block: ResidualBlock, tensor: int, choose=None) -> int:
        """One residual block: depthwise, 1x1, (max-pool, channel pad,) add, PReLU."""
        dw_op = self.g.only_consumer(
            tensor,
            "DEPTHWISE_CONV_2D",
            lambda op: (
                options(op, tflite.DepthwiseConv2DOptions).StrideH() == block.stride
                and (choose is None or choose(op))
            ),
        )
        dw = self.conv(f"{prefix}.depthwise", dw_op, block.stride, SAME, depthwise=True)
        pw = self.conv(f"{prefix}.pointwise", self.g.only_consumer(dw, "CONV_2D"), 1, VALID)
        add = self.g.only_consumer(pw, "ADD")
        shortcut = [add.Inputs(j) for j in range(add.InputsLength()) if add.Inputs(j) != pw][0]
        if block.stride == 2:
            kinds = []
            while shortcut != tensor:
                op = self.g.producer[shortcut]
                kinds.append(self.g.kind(op))
                if kinds[-1] == "MAX_POOL_2D":
                    pool = options(op, tflite.Pool2DOptions)
                    if (pool.StrideH(), pool.FilterHeight(), pool.Padding()) != (2, 2, VALID):
                        raise ValueError(f"{prefix}: max-pool is not 2x2, stride 2, valid")
                shortcut = op.Inputs(0)
            if kinds not in (["MAX_POOL_2D"], ["PAD", "MAX_POOL_2D"]) or (
                ("PAD" in kinds) != bool(block.extra_channels)
            ):
                raise ValueError(f"{prefix}: unexpected shortcut {kinds}")
        elif shortcut != tensor:
            raise ValueError(f"{prefix}: the shortcut is not the block's input")
        return self.prelu(f"{prefix}.act", add.Outputs(0))

    def blocks(self, prefix: str, sequence, tensor: int, choose=None) -> int:
        for index, block in enumerate(sequence):
            tensor = self.block(f"{prefix}.{index}", block, tensor, choose if index == 0 else None)
        return tensor

    def head(self, prefix: str, head, tensor: int, output: int) -> None:
        """A head: blocks, 1x1 conv + PReLU, a block, and the 3x3 valid convolution to ``output``."""
        leads_to_output = lambda op: self.g.reaches(op.Outputs(0), output)  # noqa: E731
        tensor = self.blocks(f"{prefix}.0", head[0], tensor, leads_to_output)
        tensor = self.conv(f"{prefix}.1", self.g.only_consumer(tensor, "CONV_2D"), 1, VALID)
        tensor = self.prelu(f"{prefix}.2", tensor)
        tensor = self.blocks(f"{prefix}.3", head[3], tensor)
        final = self.conv(f"{prefix}.4", self.g.only_consumer(tensor, "CONV_2D"), 3, VALID)
        if final != output:
            raise ValueError(f"{prefix}: ends in {self.g.name(final)}, expected {self.g.name(output)}")

    def run(self, net: FaceMeshNet) -> dict[str, torch.Tensor]:
        g = self.g
        image = g.graph.Inputs(0)
        if g.shape(image) != (1, 192, 192, 3):
            raise ValueError(f"input {g.shape(image)}, expected (1, 192, 192, 3)")
        outputs = {
            g.shape(g.graph.Outputs(i))[-1]: g.graph.Outputs(i) for i in range(g.graph.OutputsLength())
        }
        if set(outputs) != {1404, 1}:
            raise ValueError(
                f"outputs of {sorted(outputs)} channels; expected the 468-point model (1404 and 1)"
            )
        tensor = self.conv("stem.1", g.only_consumer(image, "CONV_2D"), 2, SAME)
        tensor = self.prelu("stem.2", tensor)
        tensor = self.blocks("trunk", net.trunk, tensor)
        self.head("landmark_head", net.landmark_head, tensor, outputs[1404])
        self.head("presence_head", net.presence_head, tensor, outputs[1])
        return self.state


def convert(data: bytes) -> tuple[dict[str, torch.Tensor], str]:
    """Torch state dict (float16 when the source weights are float16) and the source weights' type."""
    graph = TfliteGraph(data)
    net = FaceMeshNet()
    state = Converter(graph).run(net)
    expected = net.state_dict()
    missing, extra = set(expected) - set(state), set(state) - set(expected)
    if missing or extra:
        raise ValueError(f"layers not matched: missing {sorted(missing)}, unexpected {sorted(extra)}")
    for key, value in state.items():
        if value.shape != expected[key].shape:
            raise ValueError(
                f"{key}: shape {tuple(value.shape)} from the model, {tuple(expected[key].shape)} in torch"
            )
    constants = {op.Inputs(0) for op in graph.ops if graph.kind(op) == "DEQUANTIZE"}
    if constants - graph.used_weights:
        raise ValueError(f"{len(constants - graph.used_weights)} weights of the model were not used")
    weight_type = "float16" if graph.weight_types == {"float16"} else "float32"
    return {key: value.to(getattr(torch, weight_type)) for key, value in state.items()}, weight_type


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="mediapipe-0.10.21-*.whl or face_landmark.tflite")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    data = read_model_bytes(args.source)
    state, weight_type = convert(data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, args.out)
    print(
        f"source: {args.source} ({len(data)} bytes), sha256 of face_landmark.tflite: {hashlib.sha256(data).hexdigest()}"
    )
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {len(state)} tensors, {weight_type})")


if __name__ == "__main__":
    main()

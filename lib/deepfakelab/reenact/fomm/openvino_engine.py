"""The exported FOMM graphs on OpenVINO's CPU plugin.

OpenVINO reads the ONNX files directly and compiles them for this CPU (oneDNN kernels, fused
convolution, batch norm and activation). Precision is pinned to float32: on CPUs with AMX or
AVX-512 BF16 its default is bfloat16, which ran vox-256's generator 5x faster on such a CPU but
moved its output by up to 0.2, far outside the agreement the kit promises with the published loop.
"""

from __future__ import annotations

import numpy as np
import openvino

from .engine_base import GraphEngine


class OpenVinoEngine(GraphEngine):
    name = "openvino"
    # vox-256's generator, batch 4, 2 threads: 1.77 CPU s against 2.03 with up-sampling then
    # convolution (onnxruntime runs transposed convolutions slower, so it keeps the published form).
    transposed_upsampling = True

    def load(self, path, threads: int):
        settings = {
            "INFERENCE_PRECISION_HINT": "f32",
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
        }
        compiled = openvino.Core().compile_model(str(path), "CPU", settings)
        return compiled, compiled.create_infer_request()

    def input_names(self, graph) -> set[str]:
        compiled, _ = graph
        return {name for node in compiled.inputs for name in node.get_names()}

    def run(self, graph, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        compiled, request = graph
        results = request.infer(feeds)
        return {node.get_any_name(): np.array(results[node]) for node in compiled.outputs}


ENGINE = OpenVinoEngine

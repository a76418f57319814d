"""The exported FOMM graphs on ONNX Runtime's CPU execution provider (MLAS kernels).

ONNX Runtime folds batch normalisation into the convolutions, fuses the activations and picks
its own blocked memory layout; the kit only says how many threads to use (torch's count).
"""

from __future__ import annotations

import numpy as np
import onnxruntime

from .engine_base import GraphEngine


class OnnxRuntimeEngine(GraphEngine):
    name = "onnxruntime"

    def load(self, path, threads: int) -> onnxruntime.InferenceSession:
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: no notes about shapes it inferred
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def input_names(self, graph: onnxruntime.InferenceSession) -> set[str]:
        return {node.name for node in graph.get_inputs()}

    def run(self, graph: onnxruntime.InferenceSession, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = [node.name for node in graph.get_outputs()]
        return dict(zip(names, graph.run(names, feeds)))


ENGINE = OnnxRuntimeEngine

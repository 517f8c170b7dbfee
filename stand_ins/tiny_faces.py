"""Tiny stand-ins for InsightFace's buffalo_l detector and recognizer, for tests and benchmarks: no downloads.

They take and give what the real files do (SCRFD's nine outputs for strides 8, 16 and 32 with two anchors
each; ArcFace's 512-d embedding of 112×112 crops), so `BuffaloEmbedder` runs them unchanged. The detector
sees one face, centred on the brightest 32×32 cell of its input, when that cell is brighter than mid-grey:
a bright photo has a face, a dark one has none. The recognizer multiplies the crop's mean colour by a fixed
random matrix, so different crops give different embeddings. Building them needs the `onnx` package (a test
dependency), imported only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from photomaker.engines.local.face_embedding import (
    ALIGNED_SIZE,
    ANCHORS_PER_LOCATION,
    ARCFACE_TEMPLATE,
    EMBEDDING_DIM,
    FACE_MODEL_FILES,
    STRIDES,
)

FACE_STRIDE = 32
BRIGHTNESS_GAIN = 8.0
"""Logit per unit of normalised brightness (-1 black to 1 white): mid-grey scores 0.5, white about 1."""
RUNNER_UP_PENALTY = 1.0e4
"""Logit lost per unit of brightness below the brightest cell, so that only that cell is a face."""
NO_FACE_LOGIT = -8.0
"""The logit of every anchor at the other strides."""
FACE_BOX = np.array([1.5, 1.5, 2.5, 2.5], dtype=np.float32)
"""Left, top, right and bottom of the face from its anchor (a cell's top-left corner), in strides: a box
4 strides wide centred on the cell."""
FACE_LANDMARKS = (ARCFACE_TEMPLATE * 4 / ALIGNED_SIZE - FACE_BOX[:2]).ravel().astype(np.float32)
"""The five landmarks where ArcFace's template puts them in that box, from the anchor, in strides."""
OPSET = 17
IR_VERSION = 8


def write_tiny_face_models(directory: Path, *, seed: int = 0) -> None:
    """The two stand-ins, named as buffalo_l's files, in `directory`; the same seed writes the same bytes."""
    import onnx

    directory.mkdir(parents=True, exist_ok=True)
    detector, recognizer = FACE_MODEL_FILES
    onnx.save(_detector(_Graph(onnx)), directory / detector)
    onnx.save(_recognizer(_Graph(onnx), np.random.default_rng(seed)), directory / recognizer)


def _detector(graph: _Graph) -> Any:
    outputs: dict[str, list[str]] = {"score": [], "bbox": [], "kps": []}
    for stride in STRIDES:
        mean = np.full((1, 3, stride, stride), 1.0 / (3 * stride * stride), dtype=np.float32)
        brightness = graph.op("Conv", "input.1", graph.const(mean), strides=[stride, stride])
        zeros = graph.op("Transpose", graph.op("Mul", brightness, graph.const(np.float32(0))), perm=[0, 2, 3, 1])
        if stride == FACE_STRIDE:
            shortfall = graph.op("Sub", graph.op("GlobalMaxPool", brightness), brightness)
            logits = graph.op(
                "Sub",
                graph.op("Mul", brightness, graph.const(np.float32(BRIGHTNESS_GAIN))),
                graph.op("Mul", shortfall, graph.const(np.float32(RUNNER_UP_PENALTY))),
            )
            logits = graph.op("Transpose", logits, perm=[0, 2, 3, 1])
        else:
            logits = graph.op("Add", zeros, graph.const(np.float32(NO_FACE_LOGIT)))
        score = graph.op("Sigmoid", logits)
        per_anchor = {
            "score": graph.op("Concat", *[score] * ANCHORS_PER_LOCATION, axis=3),
            "bbox": graph.op("Add", zeros, graph.const(np.tile(FACE_BOX, ANCHORS_PER_LOCATION))),
            "kps": graph.op("Add", zeros, graph.const(np.tile(FACE_LANDMARKS, ANCHORS_PER_LOCATION))),
        }
        for kind, cells in per_anchor.items():
            width = {"score": 1, "bbox": 4, "kps": 10}[kind]
            shape = graph.const(np.array([1, -1, width], dtype=np.int64))
            outputs[kind].append(graph.output(graph.op("Reshape", cells, shape), [1, f"anchors_{stride}", width]))
    image = graph.input("input.1", [1, 3, "height", "width"])
    return graph.model("tiny_scrfd", image, [name for kind in outputs.values() for name in kind])


def _recognizer(graph: _Graph, rng: np.random.Generator) -> Any:
    projection = graph.const(rng.standard_normal((3, EMBEDDING_DIM)).astype(np.float32))
    colour = graph.op("Flatten", graph.op("GlobalAveragePool", "input.1"), axis=1)
    embedding = graph.output(graph.op("MatMul", colour, projection), ["batch", EMBEDDING_DIM])
    return graph.model("tiny_arcface", graph.input("input.1", ["batch", 3, ALIGNED_SIZE, ALIGNED_SIZE]), [embedding])


class _Graph:
    """An ONNX graph being built: nodes and constants named in the order they are added."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.nodes: list[Any] = []
        self.constants: list[Any] = []
        self.typed_outputs: dict[str, Any] = {}

    def const(self, value: np.ndarray | np.float32) -> str:
        name = f"const_{len(self.constants)}"
        self.constants.append(self.onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        name = f"{op_type.lower()}_{len(self.nodes)}"
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [name], **attributes))
        return name

    def input(self, name: str, shape: list[int | str]) -> Any:
        return self.onnx.helper.make_tensor_value_info(name, self.onnx.TensorProto.FLOAT, shape)

    def output(self, name: str, shape: list[int | str]) -> str:
        self.typed_outputs[name] = self.onnx.helper.make_tensor_value_info(name, self.onnx.TensorProto.FLOAT, shape)
        return name

    def model(self, name: str, image: Any, outputs: list[str]) -> Any:
        helper = self.onnx.helper
        graph = helper.make_graph(
            self.nodes, name, [image], [self.typed_outputs[output] for output in outputs], initializer=self.constants
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
        self.onnx.checker.check_model(model, full_check=True)
        return model

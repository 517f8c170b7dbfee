"""Tiny random PhotoMaker V2 weights, built once per test session and saved as `LOCAL_MODEL_DIR` expects."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the local engine's tests need the `local` extra: pip install -e '.[local]'")

import numpy as np
import torch
from PIL import Image

from photomaker.engines.local import weights
from photomaker.engines.local.hardware import Placement
from photomaker.engines.local.loader import load_pipeline
from photomaker.engines.local.pipeline import PhotoMakerPipeline
from stand_ins.random_weights import write_model_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model_dir(tmp_path_factory.mktemp("tiny-photomaker"), size="tiny")


@pytest.fixture(scope="session")
def tiny_pipeline(tiny_model_dir: Path) -> PhotoMakerPipeline:
    """The tiny weights loaded on the CPU the way the engine loads real ones."""
    return load_pipeline(
        weights.from_dir(tiny_model_dir),
        Placement(torch.device("cpu"), torch.float32, offload=False, onnx_providers=("CPUExecutionProvider",)),
    )


def bright_photo(seed: int = 0, *, size: tuple[int, int] = (96, 112)) -> Image.Image:
    """A picture the tiny face detector finds a face in (it sees faces in bright pictures)."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(170, 255, (size[1], size[0], 3), dtype=np.uint8))


def dark_photo(seed: int = 0) -> Image.Image:
    """A picture the tiny face detector finds no face in."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 60, (112, 96, 3), dtype=np.uint8))


GB = 10**9


class BlockedLoad:
    """A load that reports a download 2 of 7 GB along after 100 s, then waits for `release` to give the pipeline."""

    def __init__(self, pipeline: PhotoMakerPipeline) -> None:
        self.pipeline = pipeline
        self.reported = threading.Event()
        self.release = threading.Event()

    def __call__(self, report: weights.Report) -> PhotoMakerPipeline:
        report(weights.Fetching("the base model RealVisXL", 2 * GB, 7 * GB, started=time.monotonic() - 100))
        self.reported.set()
        self.release.wait(30)
        return self.pipeline

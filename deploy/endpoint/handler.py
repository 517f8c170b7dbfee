"""PhotoMaker V2 as a Hugging Face Inference Endpoints custom handler, on the `local` engine's own code.

Inference Endpoints imports `EndpointHandler` from `handler.py` at the root of the endpoint's repository,
builds it once with that repository's folder (answering 503 itself meanwhile), and calls it with each
request's JSON body; an exception becomes a 400 carrying its message. The body is the contract in
docs/engines.md ("The endpoint contract") that our `endpoint` engine sends: one image per call, at `target_size`,
the same for the same seed. Its names and bounds come from `photomaker/engines/endpoint_contract.py`, which the
engine imports too. `serve.py` puts the same handler behind HTTP on any GPU machine.
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from photomaker.core.errors import RefusedError
from photomaker.core.settings import Settings
from photomaker.engines.endpoint_contract import (
    GUIDANCE_RANGE,
    GUIDANCE_SCALE,
    HEIGHT,
    ID_IMAGES,
    INPUTS,
    MAX_ID_IMAGES,
    NEGATIVE_PROMPT,
    PARAMETERS,
    PROMPT,
    SEED,
    SEED_RANGE,
    SIDE_MULTIPLE,
    SIDE_RANGE,
    STEPS,
    STEPS_RANGE,
    STYLE_STRENGTH_RATIO,
    STYLE_STRENGTH_RATIO_RANGE,
    TARGET_SIZE,
    WIDTH,
)
from photomaker.engines.local import weights
from photomaker.engines.local.hardware import placement
from photomaker.engines.local.loader import LocalModel, loader_for


class InvalidRequest(ValueError):
    """A body the handler cannot serve, with a message that names the field (Inference Endpoints answers 400)."""


@dataclass(frozen=True)
class EndpointRequest:
    """One call's checked values."""

    photos: tuple[Image.Image, ...]
    prompt: str
    negative_prompt: str
    steps: int
    guidance_scale: float
    width: int
    height: int
    style_strength_ratio: float
    seed: int


def weights_in(directory: Path) -> Path | None:
    """`directory` when it holds weights in the `LOCAL_MODEL_DIR` layout, else None: the hub's `LOCAL_BASE_MODEL`."""
    holds = (directory / weights.CHECKPOINT_FILE).is_file() or (directory / weights.BASE_DIR).is_dir()
    return directory if holds else None


def _field(name: str) -> str:
    return f"'{PARAMETERS}.{name}'"


def _number(parameters: dict[str, Any], name: str, bounds: tuple[float, float], *, whole: bool = False) -> Any:
    """`parameters[name]` when it is a number (a whole one if `whole`) within `bounds`."""
    low, high = bounds
    value = parameters.get(name)
    kinds = int if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        given = f"{value!r}" if name in parameters else "nothing"
        kind = "a whole number" if whole else "a number"
        raise InvalidRequest(f"{_field(name)} must be {kind} from {low:g} to {high:g}; got {given}.")
    return value


def _text(parameters: dict[str, Any], name: str, *, required: bool) -> str:
    value = parameters.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidRequest(f"{_field(name)} must be {'a non-empty' if required else 'a'} string.")
    return value


def _side(size: dict[str, Any], name: str) -> int:
    value = size.get(name)
    low, high = SIDE_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high or value % SIDE_MULTIPLE:
        raise InvalidRequest(
            f"{_field(TARGET_SIZE)}.{name} must be a multiple of {SIDE_MULTIPLE} from {low} to {high}; got {value!r}."
        )
    return value


def _photo(text: Any, where: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(base64.b64decode(text, validate=True)))
        image.load()
    except (TypeError, binascii.Error, OSError, Image.DecompressionBombError) as error:
        raise InvalidRequest(f"{where} must be a base64 JPEG or PNG photo ({type(error).__name__}).") from error
    return image.convert("RGB")


def _photos(data: dict[str, Any], parameters: dict[str, Any]) -> tuple[Image.Image, ...]:
    """Every ID photo: `input_id_images` (the first photo among them), or the first photo alone."""
    if ID_IMAGES not in parameters:
        return (_photo(data.get(INPUTS), f"'{INPUTS}'"),)
    items = parameters[ID_IMAGES]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ID_IMAGES:
        raise InvalidRequest(f"{_field(ID_IMAGES)} must be a list of 1 to {MAX_ID_IMAGES} base64 photos.")
    return tuple(_photo(item, _field(f"{ID_IMAGES}[{index}]")) for index, item in enumerate(items))


def parse(data: Any) -> EndpointRequest:
    """The checked values of a request body, or InvalidRequest naming the first field that is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get(PARAMETERS), dict):
        raise InvalidRequest(f"The body must be a JSON object with '{INPUTS}' and an object '{PARAMETERS}'.")
    parameters = data[PARAMETERS]
    size = parameters.get(TARGET_SIZE)
    if not isinstance(size, dict):
        raise InvalidRequest(f'{_field(TARGET_SIZE)} must be an object {{"width": ..., "height": ...}}.')
    return EndpointRequest(
        photos=_photos(data, parameters),
        prompt=_text(parameters, PROMPT, required=True),
        negative_prompt=_text(parameters, NEGATIVE_PROMPT, required=False),
        steps=_number(parameters, STEPS, STEPS_RANGE, whole=True),
        guidance_scale=_number(parameters, GUIDANCE_SCALE, GUIDANCE_RANGE),
        width=_side(size, WIDTH),
        height=_side(size, HEIGHT),
        style_strength_ratio=_number(parameters, STYLE_STRENGTH_RATIO, STYLE_STRENGTH_RATIO_RANGE),
        seed=_number(parameters, SEED, SEED_RANGE, whole=True),
    )


class EndpointHandler:
    """PhotoMaker V2, loaded once, making one image per call (one call at a time on the GPU).

    `wait=False` returns at once and loads in the background (for `serve.py`): until the model is
    ready a call is refused `MODEL_LOADING` with how long to wait.
    """

    def __init__(self, path: str = "", *, wait: bool = True) -> None:
        settings = Settings()
        where = placement(settings)
        self.model = LocalModel(loader_for(weights_in(Path(path)), where, base_model=settings.local_base_model))
        self.model.start()
        self._generating = threading.Lock()
        if wait:
            self.model.wait()
            self.model.pipeline()  # raises why loading failed, so the endpoint fails to start with it

    def __call__(self, data: dict[str, Any]) -> Image.Image:
        """The image for a request body; InvalidRequest, or RefusedError `NO_FACE` (or `MODEL_LOADING`)."""
        request = parse(data)
        pipeline = self.model.pipeline()
        try:
            identity = pipeline.identity(request.photos)
            with self._generating:
                (image,) = pipeline.generate(
                    identity,
                    prompt=request.prompt,
                    negative_prompt=request.negative_prompt,
                    width=request.width,
                    height=request.height,
                    num_images=1,
                    steps=request.steps,
                    guidance_scale=request.guidance_scale,
                    style_strength_ratio=request.style_strength_ratio,
                    seed=request.seed,
                )
        except RefusedError as refused:
            if refused.code not in ("INVALID_PARAMS", "INVALID_PROMPT"):
                raise
            raise InvalidRequest(f"{_field(PROMPT)}: {refused.message}") from refused
        return image

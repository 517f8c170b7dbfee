"""A stand-in for the PhotoMaker-V2 Space: a Gradio app with its `/generate_image` signature.

Same function name and parameter names, the same inputs (files, the Space's own style and aspect
names as dropdown choices, its slider ranges) and the same two outputs (a gallery and the tips
markdown). It records what it received and answers a gallery of 1024x1024 images, coloured by
the seed, or raises the `gr.Error` texts a test scripts. Served on 127.0.0.1 by the tests and the
benchmarks.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import gradio as gr
from PIL import Image

from stand_ins.serving import free_port

SPACE_STYLES = (
    "(No style)",
    "Cinematic",
    "Disney Charactor",
    "Digital Art",
    "Photographic (Default)",
    "Fantasy art",
    "Neonpunk",
    "Enhance",
    "Comic book",
    "Lowpoly",
    "Line art",
)
"""The Space's style names, spelt as its `style_template.py` spells them."""

SPACE_ASPECTS = ("Instagram (1:1)", "35mm film / Landscape (3:2)", "35mm film / Portrait (2:3)")
SPACE_SIDE = 1024


@dataclass(frozen=True)
class SpaceCall:
    """What one `/generate_image` call received."""

    arguments: dict[str, Any]
    photo_sizes: list[tuple[int, int]]
    authorization: str | None
    ip_token: str | None
    """The `x-ip-token` a ZeroGPU Space charges the GPU time to (the visitor of the calling app)."""


class FakeSpace:
    """Serve the fake Space on a free loopback port; `calls` records every call."""

    def __init__(self, *, delay_s: float = 0.0, concurrency: int = 16) -> None:
        self.delay_s = delay_s
        self.concurrency = concurrency
        self.calls: list[SpaceCall] = []
        self.errors: deque[str] = deque()
        self._lock = threading.Lock()
        self.demo = self._build()
        self.url = ""

    def fail_next(self, *messages: str) -> None:
        """The next calls raise these `gr.Error` texts, in order."""
        with self._lock:
            self.errors.extend(messages)

    def _generate_image(
        self,
        upload_images: list[str] | None,
        prompt: str,
        negative_prompt: str,
        aspect_ratio_name: str,
        style_name: str,
        num_steps: float,
        style_strength_ratio: float,
        num_outputs: float,
        guidance_scale: float,
        seed: float,
        use_doodle: bool,
        sketch_image: Any,
        adapter_conditioning_scale: float,
        adapter_conditioning_factor: float,
        request: gr.Request,
    ) -> tuple[list[Image.Image], Any]:
        arguments = dict(locals())
        del arguments["self"], arguments["request"]
        sizes = []
        for path in upload_images or []:
            with Image.open(path) as photo:
                sizes.append(photo.size)
        with self._lock:
            headers = request.headers
            self.calls.append(SpaceCall(arguments, sizes, headers.get("x-hf-authorization"), headers.get("x-ip-token")))
            error = self.errors.popleft() if self.errors else None
        if self.delay_s:
            threading.Event().wait(self.delay_s)
        if error:
            raise gr.Error(error, print_exception=False)
        # Different for each seed, as the Space's are: identical outputs of two jobs at once would share
        # gradio_client's content-addressed download path, which no real answer does.
        green = int(seed) * 53 % 256
        images = [Image.new("RGB", (SPACE_SIDE, SPACE_SIDE), (40 * n, green, 160)) for n in range(int(num_outputs))]
        return images, gr.update(visible=True)

    def _build(self) -> gr.Blocks:
        with gr.Blocks(analytics_enabled=False) as demo:
            files = gr.Files(label="Photos", file_types=["image"])
            prompt = gr.Textbox(label="Prompt")
            negative = gr.Textbox(label="Negative Prompt")
            style = gr.Dropdown(list(SPACE_STYLES), value="Photographic (Default)", label="Style template")
            aspect = gr.Dropdown(list(SPACE_ASPECTS), value=SPACE_ASPECTS[0], label="Output aspect ratio")
            doodle = gr.Checkbox(value=False, label="Enable Drawing Doodle for Control")
            sketch = gr.Sketchpad(type="pil", label="Canvas")
            scale = gr.Slider(0.5, 1, value=0.7, step=0.1, label="Adapter conditioning scale")
            factor = gr.Slider(0.5, 1, value=0.8, step=0.1, label="Adapter conditioning factor")
            steps = gr.Slider(20, 100, value=50, step=1, label="Number of sample steps")
            strength = gr.Slider(15, 50, value=20, step=1, label="Style strength (%)")
            outputs = gr.Slider(1, 4, value=2, step=1, label="Number of output images")
            guidance = gr.Slider(0.1, 10.0, value=5, step=0.1, label="Guidance scale")
            seed = gr.Slider(0, 2**31 - 1, value=0, step=1, label="Seed")
            gallery = gr.Gallery(label="Generated Images")
            tips = gr.Markdown(visible=False)
            submit = gr.Button("Submit")

            inputs = [files, prompt, negative, aspect, style, steps, strength, outputs, guidance, seed, doodle, sketch]
            submit.click(
                self._generate_image,
                [*inputs, scale, factor],
                [gallery, tips],
                api_name="generate_image",
            )
        return demo

    def start(self) -> FakeSpace:
        port = free_port()
        self.demo.queue(default_concurrency_limit=self.concurrency).launch(
            server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
        )
        self.url = f"http://127.0.0.1:{port}/"
        return self

    def close(self) -> None:
        self.demo.close()

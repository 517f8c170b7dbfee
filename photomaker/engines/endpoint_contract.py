"""The endpoint contract (docs/engines.md): the body's field names and the bounds a server holds them to.

The `endpoint` engine sends these fields and deploy/endpoint's handler reads them, both from here, so the two
sides cannot drift apart. Imported by the handler's own environment: nothing here may need dlib, gradio or
torch.
"""

from __future__ import annotations

from photomaker.generation import catalogue
from photomaker.images import uploaded_photos

INPUTS = "inputs"
"""The first photo, base64."""
PARAMETERS = "parameters"
PROMPT = "prompt"
NEGATIVE_PROMPT = "negative_prompt"
STEPS = "num_inference_steps"
GUIDANCE_SCALE = "guidance_scale"
TARGET_SIZE = "target_size"
"""An object with `WIDTH` and `HEIGHT`."""
WIDTH = "width"
HEIGHT = "height"
ID_IMAGES = "input_id_images"
"""Every photo (the first one included), base64."""
STYLE_STRENGTH_RATIO = "style_strength_ratio"
STYLE_NAME = "style_name"
"""The Space's spelling of the style, for information: a server need not read it."""
SEED = "seed"

STEPS_RANGE = (1, 100)
GUIDANCE_RANGE = (0.0, 20.0)
SIDE_RANGE = (64, 2048)
SIDE_MULTIPLE = 8
"""SDXL's VAE scales by 8."""
SEED_RANGE = (0, 2**32 - 1)
STYLE_STRENGTH_RATIO_RANGE = catalogue.STYLE_STRENGTH_RATIO_RANGE
"""PhotoMaker's own range, into which the catalogue maps our 0-100 style strength."""
MAX_ID_IMAGES = uploaded_photos.MAX_PHOTOS
"""As many photos as a user may upload for one generation."""

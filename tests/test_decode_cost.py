"""decode_cost: the memory a decode is said to hold, against what it holds, measured in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photomaker.images.decode_cost import decoding_bytes, pixel_bytes

ROOT = Path(__file__).parents[1]
MIB = 1024 * 1024
SIZE = (3000, 2000)

MEASURE = """
import json, re, resource, sys
from pathlib import Path
from PIL import Image
from photomaker.images.decode_cost import decoding_bytes

def peak():  # this process's high-water mark (ru_maxrss would count the parent's, kept over exec)
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1]) * 1024

image = Image.open(sys.argv[1])
full_size = image.size
if image.format == "JPEG":
    image.draft("RGB", (full_size[0] // 4, full_size[1] // 4))  # as photos drafts a large JPEG
before = int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()
estimate = decoding_bytes(image, full_size=full_size)
image.load()
print(json.dumps({"estimate": estimate, "held": peak() - before, "size": image.size}))
"""


def _noisy(mode: str) -> Image.Image:
    """An image of `SIZE` that keeps its mode when saved (a WebP with no transparency is saved as RGB)."""
    rng = np.random.default_rng(0)
    bands = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    small = rng.integers(0, 256, (SIZE[1] // 100, SIZE[0] // 100, bands), np.uint8).squeeze()
    return Image.fromarray(small, mode).resize(SIZE)


def _saved(folder: Path, case: str) -> Path:
    path = folder / case
    if case == "rgba.png":
        _noisy("RGBA").save(path, compress_level=1)
    elif case == "grey.png":
        _noisy("L").save(path, compress_level=1)
    elif case == "grey-16.png":
        Image.fromarray(np.asarray(_noisy("L")).astype(np.uint16) * 257).save(path, compress_level=1)
    elif case == "palette.png":
        _noisy("RGB").convert("P").save(path, compress_level=1)
    elif case == "rgb.webp":
        _noisy("RGB").save(path, "WEBP", method=0)
    elif case == "rgba.webp":
        _noisy("RGBA").save(path, "WEBP", method=0)
    elif case == "progressive-444.jpg":
        _noisy("RGB").save(path, "JPEG", progressive=True, subsampling=0)
    elif case == "progressive-420.jpg":
        _noisy("RGB").save(path, "JPEG", progressive=True, subsampling=2)
    else:
        _noisy("RGB").save(path, "JPEG")
    return path


@pytest.mark.parametrize(
    ("case", "mode", "bytes_per_pixel"),
    [
        ("rgba.png", "RGBA", 4),
        ("grey.png", "L", 1),
        ("grey-16.png", "I;16", 2),
        ("palette.png", "P", 1),
        ("rgb.webp", "RGB", 16),
        ("rgba.webp", "RGBA", 16),
        # Drafted to a quarter: the coefficients (2 bytes a sample, full size) dominate; 4:2:0 has half the samples.
        ("progressive-444.jpg", "RGB", 6 + 4 / 16),
        ("progressive-420.jpg", "RGB", 3 + 4 / 16),
        ("baseline.jpg", "RGB", 4 / 16),
    ],
)
def test_the_estimate_is_what_the_decode_holds(tmp_path: Path, case: str, mode: str, bytes_per_pixel: float) -> None:
    """Within 5% (and 4 MB of the libraries' own buffers), and never much above it either."""
    path = _saved(tmp_path, case)
    assert Image.open(path).mode == mode
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    figures = json.loads(measured.stdout)
    assert figures["estimate"] == pytest.approx(bytes_per_pixel * SIZE[0] * SIZE[1], rel=0.01)
    assert 0.9 * figures["estimate"] - 4 * MIB < figures["held"] < 1.05 * figures["estimate"] + 4 * MIB


def test_pillow_keeps_a_pixel_of_several_bands_in_four_bytes() -> None:
    assert [pixel_bytes(mode, (10, 10)) for mode in ("1", "L", "P", "I;16", "I", "F", "LA", "RGB", "RGBA", "CMYK")] == [
        100,
        100,
        100,
        200,
        400,
        400,
        400,
        400,
        400,
        400,
    ]


def test_a_photo_of_twelve_megapixels_from_a_phone_costs_little_to_decode(tmp_path: Path) -> None:
    """A baseline JPEG, drafted as `photos` drafts a 4000x3000 photo, to half its size: 12 MB, not 48 MB."""
    Image.new("RGB", (4000, 3000), (90, 120, 150)).save(tmp_path / "phone.jpg")
    image = Image.open(tmp_path / "phone.jpg")
    image.draft("RGB", (1024, 768))
    assert image.size == (2000, 1500)
    assert decoding_bytes(image, full_size=(4000, 3000)) == pixel_bytes("RGB", image.size) == 12_000_000

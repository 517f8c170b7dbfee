"""Fuzzing the served API over plain HTTP: every parameter of every endpoint, and mutated photo bytes.

Hypothesis sends what a careless or hostile program could send as JSON (text with NUL and lone
surrogates, huge and negative numbers, NaN, lists where numbers go, nothing at all) beside valid
values, and photos that are truncated, bit-flipped, oddly sized, in other formats or not images.
After every call:
- it either completed, or failed with one of our codes in its message, never INTERNAL and never a
  traceback's generic error;
- a failure left the balance as it was, and a refused generation was recorded as a `rejected` row;
- no row is left `processing`, and the app keeps answering.
Engines are swapped for instant ones (the fuzz is about the inputs, not the pictures), and the
examples are derandomized so that CI runs the same few hundred cases every time.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func
from sqlmodel import select

from photomaker.core.errors import ErrorCode
from photomaker.core.settings import Settings
from photomaker.generation.params import PhotoParams, TextParams
from photomaker.generation.prompts import STYLES_BY_NAME, SUBJECTS
from photomaker.store import Generation
from stand_ins.serving import ServedApp, serve
from tests.conftest import FIXTURES
from tests.databases import fresh_database_url, postgres_answers
from tests.helpers import CountingEngine

CODES = set(get_args(ErrorCode)) - {"INTERNAL"}
CODE = re.compile(r"\[([A-Z_]+)\]")
FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NUMBERS = st.one_of(
    st.integers(-3, 110),
    st.sampled_from([2**31 - 1, 2**31, 2**53 + 1, 2**63, 2**70, -(2**63)]),
    st.integers(),
    st.floats(),
)
TEXTS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "\u202e", "\x1b[31m", "x" * 401, "a woman img img"]),
    st.text(st.characters(codec=None), max_size=60),
)
JUNK = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXTS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=2),
    max_leaves=4,
)


def either(valid: st.SearchStrategy[Any], odd: st.SearchStrategy[Any] = JUNK) -> st.SearchStrategy[Any]:
    """A valid value 17 times in 20, an odd one of its own kind twice, anything a program could send once: a
    third of the requests have one field wrong and the rest right, so odd values meet every step of a request."""
    return st.integers(0, 19).flatmap(lambda roll: JUNK if roll == 0 else odd if roll <= 2 else valid)


def spoiled(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Valid text with a character slipped in that a database or a reader chokes on."""
    bad = st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800", "\udfff", "\u202e", "\n", "\t"])
    return st.builds(lambda text, char, at: text[:at] + char + text[at:], valid, bad, st.integers(0, 30))


def text(*choices: str) -> st.SearchStrategy[Any]:
    valid = st.sampled_from(choices)
    return either(valid, spoiled(valid))


def number(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return either(valid, NUMBERS)


PROMPT = text("a professional headshot", "a woman img in a garden", "an astronaut")
PHOTO_FIELDS = {
    "prompt": PROMPT,
    "tier": text("basic", "pro", "enterprise"),
    "style": text(*STYLES_BY_NAME),
    "style_strength": number(st.none() | st.integers(0, 100)),
    "subject": text(*SUBJECTS),
    "negative_prompt": text("", "glasses, hat"),
    "num_images": number(st.integers(1, 4)),
    "seed": number(st.integers(-1, 2**31 - 1)),
    "steps": number(st.none() | st.integers(20, 100)),
    "guidance_scale": number(st.none() | st.floats(0.1, 10)),
    "project": text("My avatars", "Holiday"),
    "only_alike": st.booleans(),
}
TEXT_FIELDS = {
    "prompt": PROMPT,
    "model": either(st.none() | st.just("text-to-image:flux-schnell"), spoiled(st.just("text-to-image:flux-schnell"))),
    "width": number(st.sampled_from([256, 512, 1024, 2048])),
    "height": number(st.sampled_from([256, 768, 1024])),
    "negative_prompt": text("", "blurry"),
    "num_images": number(st.integers(1, 4)),
    "seed": number(st.integers(-1, 2**31 - 1)),
    "project": text("My avatars"),
}
assert list(PHOTO_FIELDS) == list(PhotoParams.model_fields) and list(TEXT_FIELDS) == list(TextParams.model_fields)


def _encoded(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


FACE_IMAGE = Image.open(FIXTURES / "astronaut.png").convert("RGB").resize((384, 384))
FACE = _encoded(FACE_IMAGE, "JPEG")
"""A clear face, small enough that checking it takes a few milliseconds."""


class Photo:
    """Bytes to upload as a photo, and how they were made (all that a failing example shows)."""

    def __init__(self, how: str, data: bytes) -> None:
        self.how = how
        self.data = data

    def __repr__(self) -> str:
        return f"Photo({self.how!r}, {len(self.data)} bytes)"


@st.composite
def photos(draw: st.DrawFn) -> Photo:
    """A photo as a program might upload it: whole, truncated, bit-flipped, oddly sized, another format, not one."""
    kind = draw(st.sampled_from(["whole", "truncated", "flipped", "size", "format", "not an image"]))
    if kind == "whole":
        return Photo("whole", FACE)
    if kind == "truncated":
        end = draw(st.integers(0, len(FACE) - 1))
        return Photo(f"first {end} bytes", FACE[:end])
    if kind == "flipped":
        data = bytearray(FACE)
        flips = draw(st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 7)), min_size=1, max_size=8))
        for at, bit in flips:
            data[at] ^= 1 << bit
        return Photo(f"bits flipped at {flips}", bytes(data))
    if kind == "size":
        long = draw(st.integers(1, 70_000))
        short = draw(st.integers(1, max(1, 2_000_000 // long)))  # at most 2 megapixels: quick to make and send
        size = draw(st.sampled_from([(long, short), (short, long)]))
        return Photo(f"blank {size}", _encoded(Image.new("RGB", size, (120, 100, 90)), "PNG"))
    if kind == "format":
        image_format = draw(st.sampled_from(["GIF", "BMP", "TIFF", "ICO", "PNG", "WEBP"]))
        return Photo(image_format, _encoded(FACE_IMAGE, image_format))
    data = draw(st.binary(max_size=64))
    return Photo(f"bytes {data[:16]!r}", data)


UPLOADED = st.lists(st.just(Photo("whole", FACE)), min_size=1, max_size=2)
"""Photos that pass, for the tests whose subject is the other parameters."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """The app on PostgreSQL when it answers (stricter about what it stores than SQLite), else on SQLite."""
    folder = tmp_path_factory.mktemp("fuzz")
    kind = "postgres" if postgres_answers() else "sqlite"
    with (
        fresh_database_url(kind, folder) as url,
        serve(
            Settings(
                data_dir=folder / "data",
                database_url=url,
                hf_token=None,
                user_rate_limit_per_min=10**6,
                starting_credits=10**6,
            )
        ) as served,
    ):
        served.runtime.service.engine = CountingEngine("fast")
        served.runtime.service.text_engine = CountingEngine("text")
        yield served


@pytest.fixture(scope="module")
def http(app: ServedApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app.url, timeout=60) as client:
        client.get("config")  # the upload key a browser or gradio_client gets here
        yield client


def _upload(http: httpx.Client, photos: Any) -> Any:
    """Upload a list of `Photo`s as a client would; anything else goes as it is."""
    if not isinstance(photos, list) or not photos or not all(isinstance(photo, Photo) for photo in photos):
        return photos
    files = [("files", (f"photo-{n}.jpg", photo.data)) for n, photo in enumerate(photos)]
    paths = http.post("gradio_api/upload", files=files).json()
    return [{"path": path, "meta": {"_type": "gradio.FileData"}} for path in paths]


def _call(http: httpx.Client, endpoint: str, arguments: list[Any]) -> tuple[str, Any]:
    """One call over Gradio's HTTP API: ("complete", data) or ("error", message); ("refused", status) when the
    web framework refused the request body itself (never a 5xx)."""
    body = json.dumps({"data": arguments})  # allow_nan and ASCII escapes: NaN and lone surrogates get through
    posted = http.post(f"gradio_api/call/{endpoint}", content=body, headers={"content-type": "application/json"})
    if posted.status_code != 200:
        assert posted.status_code < 500, posted.text
        return "refused", posted.status_code
    stream = http.get(f"gradio_api/call/{endpoint}/{posted.json()['event_id']}").text
    events = re.findall(r"event: (complete|error)\r?\ndata: (.*)", stream)
    assert events, f"no answer in {stream[:300]!r}"
    kind, data = events[-1]
    answer = json.loads(data)
    return kind, answer["error"] if kind == "error" else answer[0]


def _state(app: ServedApp) -> tuple[int, dict[str, int]]:
    """The local user's balance, and how many rows there are in each status."""
    with app.runtime.database.reading() as session:
        statuses = session.exec(select(Generation.status, func.count()).group_by(Generation.status)).all()
    return app.runtime.accounts.account("local").credits, dict(statuses)


def _last_code(app: ServedApp) -> str | None:
    with app.runtime.database.reading() as session:
        return session.exec(select(Generation.error_code).order_by(Generation.id.desc())).first()


def _check(app: ServedApp, kind: str, data: Any, before: tuple[int, dict[str, int]], *, generates: bool) -> None:
    """The invariants every call keeps, whatever was sent."""
    balance, counts = _state(app)
    assert counts.get("processing", 0) == 0, "no row is left processing"
    if kind == "complete":
        if generates:
            charged = data[1]["credits_charged"]
            assert balance == before[0] - charged and counts.get("completed", 0) == before[1].get("completed", 0) + 1
        return
    assert balance == before[0], "a failure costs nothing"
    if kind == "refused":
        assert counts == before[1]
        return
    message = str(data)
    codes = CODE.findall(message)
    assert codes and codes[-1] in CODES, f"no code of ours in {message!r}"
    if generates:
        assert counts.get("rejected", 0) == before[1].get("rejected", 0) + 1, "a refusal is recorded"
        assert _last_code(app) == codes[-1]


@FUZZ
@given(photos=st.one_of(UPLOADED, JUNK), values=st.fixed_dictionaries(PHOTO_FIELDS))
def test_generate_avatar_refuses_any_parameter_cleanly(
    app: ServedApp, http: httpx.Client, photos: Any, values: dict[str, Any]
) -> None:
    before = _state(app)
    kind, data = _call(http, "generate_avatar", [_upload(http, photos), *values.values()])
    _check(app, kind, data, before, generates=True)


VALID = [
    "a professional headshot",
    "basic",
    "Photographic (Default)",
    None,
    "person",
    "",
    1,
    -1,
    None,
    None,
    "Fuzz",
    True,
]


@FUZZ
@given(photos=either(st.lists(photos(), min_size=1, max_size=4), st.lists(photos(), min_size=5, max_size=6)))
def test_generate_avatar_refuses_any_photo_cleanly(app: ServedApp, http: httpx.Client, photos: list[Photo]) -> None:
    before = _state(app)
    kind, data = _call(http, "generate_avatar", [_upload(http, photos), *VALID])
    _check(app, kind, data, before, generates=True)


@FUZZ
@given(values=st.fixed_dictionaries(TEXT_FIELDS))
def test_generate_from_text_refuses_anything_cleanly(
    app: ServedApp, http: httpx.Client, values: dict[str, Any]
) -> None:
    before = _state(app)
    kind, data = _call(http, "generate_from_text", list(values.values()))
    _check(app, kind, data, before, generates=True)


OTHER_CALLS = st.one_of(
    st.tuples(st.just("rate_generation"), st.tuples(number(st.integers(1, 5)), number(st.integers(1, 5)))),
    st.tuples(st.just("grant_credits"), st.tuples(text("local"), number(st.integers(-5, 5)), text("a thank-you"))),
    st.tuples(st.just("metrics_summary"), st.tuples(text("24h", "7d"), text("all", "pro"), either(st.booleans()))),
    st.tuples(st.just("delete_my_data"), st.tuples(JUNK)),
    st.tuples(st.just("cancel_generation"), st.tuples(number(st.integers(-1, 2**40)))),
)


@FUZZ
@given(call=OTHER_CALLS)
def test_every_other_endpoint_refuses_anything_cleanly(
    app: ServedApp, http: httpx.Client, call: tuple[str, tuple[Any, ...]]
) -> None:
    endpoint, arguments = call
    before = _state(app)
    kind, data = _call(http, endpoint, list(arguments))
    balance, counts = _state(app)
    assert counts == before[1] and counts.get("processing", 0) == 0
    if kind == "error":
        codes = CODE.findall(str(data))
        assert codes and codes[-1] in CODES, f"no code of ours in {data!r}"
    if endpoint != "grant_credits" or kind != "complete":
        assert balance == before[0]
    assert http.get("config").status_code == 200, "the app keeps answering"


def test_the_fuzzed_app_still_generates(app: ServedApp, http: httpx.Client) -> None:
    """After every case above, a plain request still works end to end."""
    kind, data = _call(http, "generate_avatar", [_upload(http, [Photo("whole", FACE)]), *VALID])
    assert kind == "complete", data
    assert Path(data[0][0]["path"]).name.endswith(".png")

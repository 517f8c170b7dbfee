"""The app hosted as a Space with sign-in: two users, an operator, API tokens and a metrics token.

Browser sessions are signed as Gradio signs them (a test OAuth secret); API tokens are resolved by a
fake Hub on loopback. Each user sees, rates, downloads, exports and deletes only their own; callers
who are nobody get nothing; only the operator sees Monitoring; no file of DATA_DIR is served by URL.
Runs on SQLite; identical photos sent at once (concurrent transactions) on PostgreSQL too.
"""

from __future__ import annotations

import json
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from sqlmodel import func, select

from photomaker.store import Generation, User
from photomaker.ui import build_app
from photomaker.ui.signin import session_cookie
from photomaker.ui.upload_keys import UPLOADER_COOKIE
from photomaker.ui.uploads import REGISTRY
from stand_ins.serving import ServedApp, serve
from tests.databases import fresh_database_url
from tests.fakes.hub import FakeHub
from tests.helpers import served_spellings
from tests.signin import METRICS_TOKEN, space_settings
from tests.ui.page_events import PageEvents

FIXTURES = Path(__file__).parents[1] / "fixtures"
TOKENS = {"hf_alice_token_1234": "alice", "hf_bob_token_5678": "bob", "hf_carol_token_9012": "carol"}
ALICE, BOB, CAROL = TOKENS
USER_ENDPOINTS = {
    "/account": {},
    "/credit_history": {},
    "/rate_generation": {"generation_id": 1, "stars": 5},
    "/export_my_data": {},
    "/delete_my_data": {"confirm": True},
    "/generate_from_text": {"prompt": "a lighthouse"},
}


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    fake = FakeHub(TOKENS).start()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def space(database_kind: str, hub: FakeHub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    folder = tmp_path_factory.mktemp(f"space-{database_kind}")
    with fresh_database_url(database_kind, folder) as url:
        settings = space_settings(folder, database_url=url, hub_url=hub.url)
        with serve(settings) as app:
            yield app


def _with_token(app: ServedApp, token: str) -> Client:
    return Client(app.url, verbose=False, oauth_token=token)


def _signed_in(app: ServedApp, username: str) -> Client:
    cookie = session_cookie(app.runtime.settings, username)
    return Client(app.url, verbose=False, httpx_kwargs={"cookies": {"session": cookie}})


def _anonymous(app: ServedApp) -> Client:
    return Client(app.url, verbose=False)


def _generate(client: Client, *, photo: str = "astronaut.png", num_images: int = 1) -> tuple[list[str], dict]:
    return client.predict(
        photos=[handle_file(FIXTURES / photo)],
        prompt="a professional headshot",
        tier="basic",
        num_images=num_images,
        api_name="/generate_avatar",
    )


def _rows(app: ServedApp) -> tuple[int, int]:
    with app.runtime.database.session() as session:
        users = session.exec(select(func.count()).select_from(User)).one()
        rows = session.exec(select(func.count()).select_from(Generation)).one()
    return users, rows


@pytest.fixture(scope="module")
def made(space: ServedApp) -> dict[str, dict]:
    """One generation each for alice (token), bob (browser session) and carol (operator, token)."""
    return {
        "alice": _generate(_with_token(space, ALICE))[1],
        "bob": _generate(_signed_in(space, "bob"), num_images=2)[1],
        "carol": _generate(_with_token(space, CAROL))[1],
    }


def _private_uploads(upload_dir: Path) -> set[Path]:
    return set(upload_dir.glob("private-*"))


def test_nobody_gets_nothing_and_nothing_is_recorded(space: ServedApp, upload_dir: Path) -> None:
    before, uploads_before = _rows(space), _private_uploads(upload_dir)
    anonymous = _anonymous(space)
    for api_name, arguments in USER_ENDPOINTS.items():
        with pytest.raises(AppError) as caught:
            anonymous.predict(**arguments, api_name=api_name)
        message = str(caught.value)
        assert "[SIGN_IN_REQUIRED]" in message and "Sign in" in message and "oauth_token" in message, api_name
    with pytest.raises(AppError, match=r"\[SIGN_IN_REQUIRED\]"):
        _generate(anonymous)
    with pytest.raises(AppError, match=r"did not accept that token.*\[SIGN_IN_REQUIRED\]"):
        _with_token(space, "hf_not_a_real_token").predict(api_name="/account")
    assert _rows(space) == before, "a refusal for nobody records nothing and creates no account"
    assert _private_uploads(upload_dir) <= uploads_before, "the refused caller's photo is not kept"


def test_each_user_is_who_their_session_or_token_says(space: ServedApp, hub: FakeHub, made: dict) -> None:
    assert _with_token(space, ALICE).predict(api_name="/account")["username"] == "alice"
    assert _signed_in(space, "bob").predict(api_name="/account")["username"] == "bob"
    operator = _with_token(space, CAROL).predict(api_name="/account")
    assert operator["username"] == "carol" and operator["is_admin"] is True
    assert _signed_in(space, "alice").predict(api_name="/account")["is_admin"] is False
    assert made["alice"]["credits_remaining"] == 250 - 18 and made["bob"]["credits_remaining"] == 250 - 36
    lookups = hub.lookups[ALICE]
    for _ in range(3):
        _with_token(space, ALICE).predict(api_name="/account")
    assert hub.lookups[ALICE] == lookups, "a token is resolved once, then cached"


def test_users_rate_and_see_only_their_own(space: ServedApp, made: dict) -> None:
    alice = _with_token(space, ALICE)
    with pytest.raises(AppError, match=r"not one of yours.*\[NOT_FOUND\]"):
        alice.predict(generation_id=made["bob"]["generation_id"], stars=1, api_name="/rate_generation")
    rated = alice.predict(generation_id=made["alice"]["generation_id"], stars=4, api_name="/rate_generation")
    assert rated["stars"] == 4
    history = alice.predict(api_name="/credit_history")
    assert {entry["generation_id"] for entry in history} == {None, made["alice"]["generation_id"]}
    assert [entry["kind"] for entry in history][-1] == "grant" and history[0]["delta"] == -18


def test_operators_alone_see_the_monitoring(space: ServedApp, made: dict) -> None:
    for client in (_with_token(space, ALICE), _signed_in(space, "bob")):
        with pytest.raises(AppError, match=r"\[FORBIDDEN\]"):
            client.predict(window="24h", api_name="/metrics_summary")
        with pytest.raises(AppError, match=r"\[FORBIDDEN\]"):
            client.predict(username="bob", amount=1000, reason="self-service", api_name="/grant_credits")
    with pytest.raises(AppError, match=r"\[SIGN_IN_REQUIRED\]"):
        _anonymous(space).predict(window="24h", api_name="/metrics_summary")
    for operator in (_with_token(space, CAROL), _signed_in(space, "carol")):
        assert operator.predict(window="24h", api_name="/metrics_summary")["completed"] >= 3


def test_the_monitoring_tab_and_its_events_are_the_operators(space: ServedApp) -> None:
    demo = build_app(space.runtime)
    tab = next(block for block in demo.blocks.values() if isinstance(block, gr.Tab) and block.label == "Monitoring")
    assert tab.visible is False, "hidden until the page knows an operator is looking"
    handlers = {fn.api_name: fn.fn for fn in demo.fns.values()}
    events = PageEvents(demo)

    def profile(username: str) -> gr.OAuthProfile:
        return gr.OAuthProfile({"preferred_username": username, "name": username, "profile": "", "picture": ""})

    load_inputs = {"mode": "Photo to Avatar", "tier": "basic", "model": None, "num_images": 1}
    assert events("ui_load", **load_inputs, profile=profile("bob"))["monitoring"].visible is False
    assert events("ui_load", **load_inputs, profile=None)["monitoring"].visible is False
    assert events("ui_load", **load_inputs, profile=profile("carol"))["monitoring"].visible is True
    for name, arguments in {
        "ui_monitoring": ("24h", "all", False),
        "ui_export_csv": ("24h", "all", False),
        "ui_grant": ("bob", 100, "a gift"),
    }.items():
        for who in (profile("bob"), None):
            with pytest.raises(gr.Error):
                handlers[name](*arguments, profile=who)
    assert handlers["ui_monitoring"]("24h", "all", False, profile=profile("carol"))[1].startswith("<div")


def test_metrics_needs_the_bearer_token(space: ServedApp, made: dict) -> None:
    url = space.url + "metrics"
    assert httpx.get(url, timeout=10).status_code == 401
    wrong = httpx.get(url, headers={"Authorization": "Bearer not-it"}, timeout=10)
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
    scrape = httpx.get(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    assert scrape.status_code == 200 and "photomaker_generations_total" in scrape.text


def test_no_file_of_the_data_folder_is_served(space: ServedApp, made: dict) -> None:
    data_dir = Path(space.runtime.settings.data_dir).resolve()
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert any(path.suffix == ".png" for path in files) and any(path.suffix == ".webp" for path in files)
    with httpx.Client(timeout=10) as client:
        served = {str(path): served_spellings(space.url, str(path), client) for path in files}
    assert {path: urls for path, urls in served.items() if urls} == {}
    assert data_dir.stat().st_mode & 0o777 == 0o700
    assert all(
        folder.stat().st_mode & 0o777 == 0o700 for folder in (data_dir / "avatars").rglob("*") if folder.is_dir()
    )
    if space.runtime.settings.database_url.startswith("sqlite"):
        assert (data_dir.parent / "test.db").stat().st_mode & 0o777 == 0o600


def test_answers_hold_no_server_path_of_the_data_folder(space: ServedApp, made: dict) -> None:
    data_dir = str(Path(space.runtime.settings.data_dir).resolve())
    files, details = _generate(_with_token(space, ALICE))
    assert data_dir not in json.dumps(details)
    assert all(data_dir not in path for path in files)
    page = httpx.get(space.url + "config", timeout=10).text
    assert data_dir not in page


def _raw_generate(app: ServedApp, photo_path: str, *, token: str, cookies: dict[str, str]) -> str:
    """Call /generate_avatar over plain HTTP with a FileData path of our choosing; returns the event stream."""
    body = {
        "data": [
            [{"path": photo_path, "meta": {"_type": "gradio.FileData"}}],
            "a headshot",
            *("basic", "Photographic (Default)", None, "person", "", 1, -1, None, None, "My avatars", True),
        ],
        "oauth_token": token,
    }
    with httpx.Client(base_url=app.url, cookies=cookies, timeout=30) as client:
        event = client.post("gradio_api/call/generate_avatar", json=body).json()["event_id"]
        return client.get(f"gradio_api/call/generate_avatar/{event}").text


def test_a_photo_must_be_uploaded_by_the_caller(space: ServedApp, upload_dir: Path, made: dict) -> None:
    with httpx.Client(base_url=space.url, timeout=30) as alice:
        alice.get("config")  # a browser or gradio_client gets its upload key here
        with (FIXTURES / "astronaut.png").open("rb") as photo:
            (uploaded,) = alice.post("gradio_api/upload", files=[("files", ("me.png", photo))]).json()
        alice_cookies = dict(alice.cookies)
    assert Path(uploaded).exists() and "private-" in uploaded
    before = _rows(space)
    stolen = _raw_generate(space, uploaded, token=BOB, cookies={})
    assert "event: error" in stolen and "INVALID_PHOTO" in stolen and "not uploaded with this request" in stolen
    own_avatar = next(Path(space.runtime.settings.data_dir).rglob("avatar-1.png"))
    assert "event: error" in _raw_generate(space, str(own_avatar), token=BOB, cookies={}), "Gradio blocks DATA_DIR"
    assert Path(uploaded).exists(), "a refused path is left alone"
    users, rows = before
    assert _rows(space) == (users, rows + 1), "one refusal recorded (Gradio refused the other itself)"
    with space.runtime.database.session() as session:
        last = session.exec(select(Generation).order_by(Generation.id.desc())).first()
    assert last is not None and (last.status, last.error_code, last.credits_charged) == ("rejected", "INVALID_PHOTO", 0)
    assert last.photo_count == 1, "the refusal records how many photos the request named"
    used = _raw_generate(space, uploaded, token=ALICE, cookies=alice_cookies)
    assert "event: complete" in used, used
    assert not Path(uploaded).exists(), "used, then deleted"


@pytest.mark.both_databases
def test_identical_photos_sent_at_once_both_work(space: ServedApp, made: dict) -> None:
    results: dict[str, Any] = {}

    def run(token: str) -> None:
        try:
            results[token] = _generate(_with_token(space, token))[1]["status"]
        except Exception as error:
            results[token] = repr(error)

    threads = [threading.Thread(target=run, args=(token,)) for token in (ALICE, BOB)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {ALICE: "completed", BOB: "completed"}


def test_export_and_delete_touch_only_ones_own(space: ServedApp, made: dict, caplog: pytest.LogCaptureFixture) -> None:
    bob = _signed_in(space, "bob")
    exported = bob.predict(api_name="/export_my_data")
    with zipfile.ZipFile(exported) as archive:
        names = archive.namelist()
        generations = json.loads(archive.read("generations.json"))
    assert {g["id"] for g in generations} >= {made["bob"]["generation_id"]}
    assert made["alice"]["generation_id"] not in {g["id"] for g in generations}
    assert sum(name.startswith("avatars/") for name in names) >= 2
    with pytest.raises(AppError, match=r"confirm=True"):
        bob.predict(api_name="/delete_my_data")
    alice_before = _with_token(space, ALICE).predict(api_name="/credit_history")
    bob_credits = bob.predict(api_name="/account")["credits"]
    deleted = bob.predict(confirm=True, api_name="/delete_my_data")
    assert deleted["username"] == "bob"
    with zipfile.ZipFile(bob.predict(api_name="/export_my_data")) as archive:
        assert not [name for name in archive.namelist() if name.startswith("avatars/")]
        assert all(g["prompt"] == "" for g in json.loads(archive.read("generations.json")))
    assert _with_token(space, ALICE).predict(api_name="/credit_history") == alice_before
    assert bob.predict(api_name="/account")["credits"] == bob_credits, "the credits stay"
    assert not any(token in record.getMessage() for record in caplog.records for token in TOKENS)


def test_operators_grant_and_take_back_credits(space: ServedApp) -> None:
    operator = _with_token(space, CAROL)
    alice = _with_token(space, ALICE)
    before = alice.predict(api_name="/account")["credits"]
    granted = operator.predict(username="alice", amount=40, reason="a gift", api_name="/grant_credits")
    assert granted["credits"] == before + 40
    with pytest.raises(AppError, match=r"\[INVALID_PARAMS\]"):
        operator.predict(username="alice", amount=-(before + 41), reason="too much", api_name="/grant_credits")
    assert alice.predict(api_name="/account")["credits"] == before + 40
    taken = operator.predict(username="alice", amount=-40, reason="the gift back", api_name="/grant_credits")
    assert taken["credits"] == before
    notes = [(entry["delta"], entry["note"]) for entry in alice.predict(api_name="/credit_history")[:2]]
    assert [delta for delta, _ in notes] == [-40, 40] and all("carol" in note for _, note in notes)


def test_the_page_tells_a_visitor_to_sign_in_and_keeps_nothing(space: ServedApp, upload_dir: Path) -> None:
    events = PageEvents(build_app(space.runtime))
    folder = upload_dir / "visitor"
    folder.mkdir(exist_ok=True)
    photo = REGISTRY.adopt(Path(shutil.copy(FIXTURES / "astronaut.png", folder / "me.png")), owner="visitor")
    before = _rows(space)
    tab = SimpleNamespace(session_hash="visitor-tab", cookies={UPLOADER_COOKIE: "visitor"}, headers={}, client=None)
    events("ui_keep_photos", photos=[(str(photo), None)], request=tab)
    outcome = events("ui_generate", photos=[(str(photo), None)], prompt="a headshot", tier="basic", request=tab)
    said = outcome["details"]
    assert "Sign in" in said and "SIGN_IN_REQUIRED" in said and "Nothing was charged" in said
    assert "sign in to see your credits" in outcome["cost"]
    assert _rows(space) == before and not photo.exists() and outcome["photos"] is None, "a visitor keeps nothing"
    loaded = events("ui_load", mode="Photo to Avatar", tier="basic", model=None, num_images=2, profile=None)
    who, tab, cost, history = loaded["who"], loaded["monitoring"], loaded["cost"], loaded["history"]
    assert "Not signed in" in who and history == [] and "sign in to see your credits" in cost
    assert tab.visible is False

"""The catalogue and the caller's account."""

from __future__ import annotations

from fastapi import APIRouter

from photomaker.rest.dependencies import AppRuntime, Caller
from photomaker.rest.problems import documented
from photomaker.rest.schemas import MeOut, ModelOut

router = APIRouter(tags=["account"])


@router.get("/models", responses=documented(401, 503))
def list_models(runtime: AppRuntime, username: Caller) -> list[ModelOut]:
    """Every model on offer: the Photo to Avatar tiers and the Text to Image models, with their price."""
    return [ModelOut.of(model) for mode in ("photo", "text") for model in runtime.service.models(mode=mode)]


@router.get("/me", responses=documented(401, 503))
def me(runtime: AppRuntime, username: Caller) -> MeOut:
    """Who you are here, and your credits."""
    account = runtime.accounts.account(username)
    return MeOut(username=account.username, credits=account.credits, is_admin=runtime.identity.is_operator(username))

"""A generation's first step: every check of a request that does not read the photos, made into `Prepared`.

A refusal here is recorded (a `rejected` row, and counted against the user and address) and raised; nothing
is charged. `GenerationService` orders this step before `accept`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from photomaker.core import safe_text as text
from photomaker.core.errors import RefusedError
from photomaker.engines.base import MAX_SEED, Engine, GenerationRequest
from photomaker.generation import prompts
from photomaker.generation.packs import Plan, plan_pack, plan_photo, plan_text
from photomaker.generation.params import DEFAULT_MAX_OUTPUTS, PackParams, PhotoParams, TextParams, given, parse
from photomaker.generation.refusals import Asked, Refusals
from photomaker.generation.run_params import RunParams
from photomaker.store import AIModel, Database, generations
from photomaker.store import catalog as model_rows

TEXT_MODE_OFF = (
    "Text to Image needs a Hugging Face token (HF_TOKEN) or TEXT_TO_IMAGE_ENDPOINT_URL, and this app has neither."
)


@dataclass(frozen=True)
class Prepared:
    """A request that passed every check but the photos': all `run` needs."""

    username: str
    model: AIModel
    engine: Engine
    plan: Plan
    requests: tuple[GenerationRequest, ...]
    """One engine request per group of the plan, in its order."""
    run_params: RunParams
    project: str
    asked: Asked
    address: str | None = None
    """The client's address, where a surface knows it: refusals count against it too."""

    @property
    def request(self) -> GenerationRequest:
        """The first group's request: what the row records of the prompt."""
        return self.requests[0]


def _asked(
    values: Mapping[str, Any],
    *,
    mode: str,
    engine: str,
    model: AIModel | None,
    params: Mapping[str, Any],
    photo_count: int = 0,
) -> Asked:
    """What a refusal of these raw values records: the prompts cut to their limits, and `params` and
    `photo_count`, every value made storable (a refusal of text that cannot be stored is recorded too)."""
    return partial(
        generations.Draft,
        model_key=model.model_key if model else "unknown",
        mode=mode,
        engine=engine,
        prompt=text.storable(str(values.get("prompt") or ""))[: prompts.MAX_PROMPT_CHARS],
        negative_prompt=text.storable(str(values.get("negative_prompt") or ""))[: prompts.MAX_NEGATIVE_CHARS],
        params={key: text.recordable(value) for key, value in params.items()},
        photo_count=photo_count,
    )


def _max_images(model: AIModel) -> int:
    return model.max_outputs or DEFAULT_MAX_OUTPUTS


class Preparing:
    """The checks before the photos, as `GenerationService` runs them (the attributes are its own)."""

    database: Database
    engine: Engine
    text_engine: Engine | None
    refusals: Refusals

    def models(self, *, mode: str = "photo") -> list[AIModel]:
        """The enabled models of one mode, cheapest first."""
        with self.database.reading() as session:
            return model_rows.list_models(session, mode=mode)

    def prepare_avatar(
        self,
        username: str,
        values: Mapping[str, Any],
        *,
        photo_count: int,
        pack: bool = False,
        upload_problem: RefusedError | None = None,
        address: str | None = None,
    ) -> Prepared:
        """Every check of a photo request (`PhotoParams`) or, with `pack`, of a pack (`PackParams`) that does not
        read the photos; a refusal is recorded and raised.

        `upload_problem` is a refusal of the uploads found before (a file this caller did not upload):
        recorded like the others. `address` is the client's, where the surface knows it.
        """
        self.refusals.admit(username, address=address)
        kind = PackParams if pack else PhotoParams
        tier = given(kind, values, "tier")
        model = self._photo_model(tier) if isinstance(tier, str) and not text.unstorable(tier) else None
        shown = ("styles", "preset", "images_per_style") if pack else ("style", "num_images")
        asked = _asked(
            values,
            mode="photo",
            engine=self.engine.name,
            model=model,
            params={"tier": tier, **{key: given(kind, values, key) for key in shown}},
            photo_count=photo_count,
        )
        with self.refusals.recorded(username, asked, address=address):
            if upload_problem is not None:
                raise upload_problem
            if model is None:
                raise RefusedError(
                    "INVALID_PARAMS",
                    f"Unknown tier {text.quoted(tier)}; choose basic, pro or enterprise.",
                )
            limit = _max_images(model)
            params: PhotoParams | PackParams = (
                parse(PackParams, values, max_images=limit) if pack else parse(PhotoParams, values, max_images=limit)
            )
            plan = plan_pack(params) if isinstance(params, PackParams) else plan_photo(params)
            built = [
                prompts.build(
                    params.prompt, style=style, subject=params.subject, negative_prompt=params.negative_prompt
                )
                for style in plan.styles
            ]
        run_params = RunParams.for_photo(params, model, plan)
        return self._prepared(
            username, model, self.engine, plan, built, run_params, project=params.project, asked=asked, address=address
        )

    def _photo_model(self, tier: str) -> AIModel | None:
        with self.database.reading() as session:
            found = model_rows.find_model(session, tier=tier)
        return found if found is not None and found.mode == "photo" else None

    def prepare_text(self, username: str, values: Mapping[str, Any], *, address: str | None = None) -> Prepared:
        """Every check of a Text to Image request; a refusal is recorded and raised, with the model asked for
        (the default one when none or an unknown one was)."""
        self.refusals.admit(username, address=address)
        engine = self.text_engine
        models = self.models(mode="text")
        key = values.get("model") or None
        model = next((model for model in models if key in (None, model.model_key)), None)
        recorded = {name: given(TextParams, values, name) for name in ("width", "height", "num_images")}
        if key is not None:
            recorded["model"] = key
        default = model or (models[0] if models else None)
        asked = _asked(values, mode="text", engine=engine.name if engine else "none", model=default, params=recorded)
        with self.refusals.recorded(username, asked, address=address):
            if engine is None:
                raise RefusedError("NOT_OFFERED", TEXT_MODE_OFF)
            if model is None:
                choices = ", ".join(model.model_key for model in models) or "none"
                raise RefusedError(
                    "INVALID_PARAMS",
                    f"Unknown text model {text.quoted(key)}; choose one of: {choices}.",
                )
            params = parse(TextParams, values, max_images=_max_images(model))
            built = prompts.build(
                params.prompt, style=prompts.NO_STYLE, negative_prompt=params.negative_prompt, with_trigger=False
            )
        run_params = RunParams.for_text(params, model)
        plan = plan_text(params.num_images)
        return self._prepared(
            username, model, engine, plan, [built], run_params, project=params.project, asked=asked, address=address
        )

    @staticmethod
    def _prepared(
        username: str,
        model: AIModel,
        engine: Engine,
        plan: Plan,
        built: list[prompts.BuiltPrompt],
        run_params: RunParams,
        *,
        project: str,
        asked: Asked,
        address: str | None,
    ) -> Prepared:
        """One request per group: its style, prompts and number of images; the first group has the seed asked for
        (or a random one), each next group the seed after the last group's images."""
        seed = random.randint(0, MAX_SEED) if run_params.seed_requested == -1 else run_params.seed_requested
        requests, offset = [], 0
        for group, prompt in zip(plan.groups, built, strict=True):
            requests.append(
                GenerationRequest.from_prompts(
                    prompt,
                    mode=model.mode,
                    model_key=model.model_key,
                    style=prompts.get_style(group.style),
                    style_strength=run_params.style_strength or 0,
                    width=run_params.width,
                    height=run_params.height,
                    num_images=group.count,
                    steps=run_params.steps,
                    guidance_scale=run_params.guidance_scale,
                    seed=(seed + offset) % (MAX_SEED + 1),
                )
            )
            offset += group.count
        return Prepared(username, model, engine, plan, tuple(requests), run_params, project, asked, address)

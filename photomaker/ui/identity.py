"""Who is asking: the HF account on a Space with sign-in, the local user everywhere else."""

from __future__ import annotations

import os

import gradio as gr

from photomaker.settings import Settings


def oauth_enabled() -> bool:
    """True on a Hugging Face Space with `hf_oauth: true`; `gr.LoginButton` only works there."""
    return bool(os.environ.get("SPACE_ID") and os.environ.get("OAUTH_CLIENT_ID"))


def username_for(profile: gr.OAuthProfile | None, settings: Settings) -> str:
    """The account to charge: the signed-in HF user, or the local user when there is no sign-in."""
    if profile is not None:
        return profile.username
    if oauth_enabled():
        raise gr.Error("Sign in with Hugging Face (top of the page) to make avatars.", title="Sign in first")
    return settings.local_username

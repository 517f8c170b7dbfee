"""What the Monitoring tab says: the headline cards against the targets, the note on an empty window, and how
each figure is measured."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from photomaker.core.plurals import counted
from photomaker.monitoring import targets, views

VERDICTS = {True: ("✓ met", "met"), False: ("✗ missed", "missed"), None: ("· no data yet", "unknown")}
"""Each verdict's words and its class (`look` colours it for the light and the dark theme)."""


def _badge(checked: dict[str, Any]) -> str:
    """The verdict under a target; a figure the view cannot have says why instead of "no data yet"."""
    text, kind = VERDICTS[checked["met"]]
    if reason := checked.get("not_applicable"):
        text = f"· {reason}"
    return f'<span class="verdict verdict-{kind}">{html.escape(text)}</span>'


def _card(title: str, value: str, detail: str, *, badge: str = "") -> str:
    return (
        f'<div class="card"><div class="card-title">{html.escape(title)}</div>'
        f'<div class="card-value">{html.escape(value)}</div>'
        f'<div class="card-detail">{html.escape(detail)}</div>{badge}</div>'
    )


def _target_detail(target: targets.Target, summary: dict[str, Any]) -> str:
    """The line under a target's value: the target, and what the figure was made of where it helps."""
    detail = f"target {targets.target_text(target)}"
    if target.key == "avg_rating":
        return f"{detail} · {counted(summary['ratings'], 'rating')}"
    if target.key == "likeness_ok_rate":
        median = targets.display("likeness_p50", summary["likeness_p50"])
        faceless = summary["avatars_without_face"]
        return f"of {counted(summary['avatars_scored'], 'avatar')} scored · median likeness {median} · {detail}" + (
            f" · {faceless:,} with no face found" if faceless else ""
        )
    return detail


NO_TALLY = "—"
"""What the likeness check's card reads in a window where no Photo to Avatar generation was counted."""


def _kept_card(summary: dict[str, Any]) -> str:
    """The likeness check's card: the share of avatars kept, the share alike at the first try, and the tries behind
    each kept avatar."""
    title = "Kept after likeness check"
    if summary["kept_rate"] is None:
        return _card(title, NO_TALLY, "no photo to avatar images asked for in this window")
    first = targets.display("first_try_alike_rate", summary["first_try_alike_rate"])
    tries = summary["tries_per_kept_avatar"]
    per_kept = NO_TALLY if tries is None else targets.display("tries_per_kept_avatar", tries)
    return _card(
        title,
        targets.display("kept_rate", summary["kept_rate"]),
        f"first try {first} · {per_kept} tries per kept avatar · "
        f"{summary['avatars_kept']:,} of {summary['avatars_asked']:,} asked",
    )


def headline_html(summary: dict[str, Any]) -> str:
    """The row of headline cards: totals, then each target with its value and verdict."""
    cards = [
        _card(
            "Total generations",
            f"{summary['total']:,}",
            f"{summary['completed']:,} completed · {summary['failed']:,} failed · {summary['rejected']:,} refused"
            + (f" · {summary['turned_away']:,} turned away" if summary["turned_away"] else ""),
        )
    ]
    for target in targets.TARGETS:
        checked = summary["targets"][target.key]
        value = targets.display(target.key, checked["value"])
        cards.append(_card(target.label, value, _target_detail(target, summary), badge=_badge(checked)))
    cards.append(_kept_card(summary))
    cards.append(_card("Credits spent", f"{summary['credits_spent']:,}", "on completed generations"))
    return f'<div id="headline">{"".join(cards)}</div>'


def empty_note(summary: dict[str, Any]) -> dict[str, Any]:
    """A friendly word when the window holds nothing yet."""
    if summary["total"]:
        return gr.update(visible=False)
    return gr.update(
        visible=True,
        value=(
            f"**Nothing to show for the {views.WINDOW_LABELS[summary['window']]} yet.** Make some avatars on the "
            "Generate tab, widen the time window, or fill a demo history with "
            "`python -m photomaker demo-history --days 30 --per-day 200`."
        ),
    )


DEFINITION_LABELS = {
    "total": "Total generations",
    "success_rate": "Success rate",
    "processing_s": "Average and p95 time",
    "adoption_rate": "Photo-to-avatar adoption",
    "avg_rating": "Satisfaction",
    "credits_spent": "Credits spent",
    "likeness_ok_rate": "Looks like the person",
    "kept_rate": "Kept after likeness check",
    "first_try_alike_rate": "First try",
    "tries_per_kept_avatar": "Tries per kept avatar",
    "likeness_p50": "Median likeness",
}


def definitions_markdown() -> str:
    """The definitions, under the names the cards use."""
    return "\n".join(f"- **{DEFINITION_LABELS.get(key, key)}**: {text}" for key, text in targets.DEFINITIONS.items())

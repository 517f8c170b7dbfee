"""What the monitoring figures mean, what the product promises of them, and how people read them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from photomaker.faces.likeness import ALIKE_SCORE, SAME_PERSON_DISTANCE
from photomaker.generation.packs import TRIES
from photomaker.monitoring import histogram

DEFINITIONS: dict[str, str] = {
    "total": "finished generations created in the window: completed + failed + refused",
    "success_rate": "completed / (completed + failed); refused requests (turned down before any charge, e.g. no "
    "face found) are counted apart and do not lower it",
    "processing_s": "processing time of completed generations; the average is exact, p50 and p95 come from a "
    f"fixed histogram of {histogram.LATENCY.buckets} buckets (bounds from {histogram.LATENCY.bounds[0]:g} s to "
    f"{histogram.LATENCY.bounds[-1]:g} s, at most 2 s apart below 10 s) and are exact to within one bucket, "
    "interpolated between the fastest and slowest times seen, so never outside them",
    "adoption_rate": "share of completed generations made from photos (photo to avatar) rather than text; "
    "across all tiers only (n/a when one tier is chosen, as a tier has one mode)",
    "turned_away": "requests turned away unread, before anything was checked, because their user or address had "
    "too many refusals that minute (REFUSALS_PER_MIN); all tiers, counted per hour and never with a row each, so "
    "they are not in total or refused",
    "avg_rating": "mean stars (1-5) over rated generations",
    "credits_spent": "credits paid for completed generations, less what they gave back for avatars not kept "
    "(failures are refunded, refusals cost nothing)",
    "likeness_ok_rate": "share of scored avatars that look like the person: after a photo to avatar generation, "
    "the face found in each avatar is compared with the mean face of the photos (dlib's face descriptors), and it "
    f"looks like the person when its likeness is at least {ALIKE_SCORE:.0%}, i.e. within the model's same-person "
    f"distance ({SAME_PERSON_DISTANCE}); avatars in which no face can be found are counted apart "
    "(avatars_without_face) and do not lower it; text to image avatars, and photo to avatar generations made "
    "before likeness was measured, count in neither. The avatars scored are those kept: with the likeness check on, "
    "an avatar that does not look like the person is not kept (first_try_alike_rate is the engine's own). Counted "
    "from the generation rows, which outlive their avatars: retention and a user's deletion change nothing, and a "
    "rebuild gives the same figures",
    "likeness_p50": "median likeness score of the scored avatars, 0-100%: 1 - distance / "
    f"{SAME_PERSON_DISTANCE / (1 - ALIKE_SCORE):g}, clipped, so the same-person threshold scores "
    f"{ALIKE_SCORE:.0%}; from a fixed "
    f"histogram of {histogram.LIKENESS.bounds[0]:.0%} buckets, exact to within one bucket (avg_likeness is the "
    "exact mean)",
    "kept_rate": "share of the photo to avatar images asked for that people got and paid for: kept / asked. With "
    f"the likeness check on (the default) an image that does not look like the person after {TRIES} tries is not "
    "kept and its credits are refunded; an image with no face found is kept. Over completed and failed generations "
    "alike (one that keeps none fails, NOT_ALIKE or CANCELLED), so an image never made (cancelled, the engine "
    "failed) counts as asked and not kept; with the check off every image made is kept. Refusals, text to image, "
    "and generations made before packs or stopped before their images were counted (settled on a restart) count in "
    "none of the check's figures",
    "first_try_alike_rate": "the kept rate before the likeness check: share of the photo to avatar images asked for "
    "that looked like the person (or had no face found) at their first try, alike at the first try / asked; the "
    "gap up to the kept rate is what the second tries won back",
    "tries_per_kept_avatar": "images the engine made for photo to avatar requests, second tries included, per image "
    "kept: made / kept; 1.00 when every first try is kept, more as the check turns images down (the engine's work "
    "behind each avatar people get)",
}


@dataclass(frozen=True)
class Target:
    """A figure the product promises: above or below a threshold, or (`inclusive`) at least or at most it."""

    key: str
    label: str
    threshold: float
    above: bool
    inclusive: bool = False

    @property
    def comparison(self) -> str:
        return (">" if self.above else "<") + ("=" if self.inclusive else "")

    def check(self, value: float | None, *, not_applicable: str | None = None) -> dict[str, Any]:
        """The value against the target; `met` is None while there is nothing to measure.

        A figure that cannot exist in a view (adoption within one tier) has no value, and its check
        carries `not_applicable`, the reason, so that it never reads as data still to come.
        """
        met = None
        if value is not None:
            met = self.inclusive if value == self.threshold else (value > self.threshold) == self.above
        checked = {"value": value, "target": self.threshold, "comparison": self.comparison, "met": met}
        return checked if not_applicable is None else {**checked, "not_applicable": not_applicable}


TARGETS: tuple[Target, ...] = (
    Target("success_rate", "Success rate", 0.95, above=True),
    Target("avg_processing_s", "Average time", 120, above=False),
    Target("p95_processing_s", "p95 time", 120, above=False),
    Target("adoption_rate", "Photo-to-avatar adoption", 0.30, above=True),
    Target("avg_rating", "Satisfaction", 4.5, above=True),
    Target("likeness_ok_rate", "Looks like the person", 0.90, above=True, inclusive=True),
)
LIKENESS_SCORES = ("likeness_p50", "avg_likeness")
"""Summary figures that are likeness scores, read in percent like the scores under each avatar."""
PER_AVATAR = ("tries_per_kept_avatar",)
"""Summary figures that are counts per avatar, read to two decimals."""


def display(key: str, value: float | None) -> str:
    """A summary figure as people read it: rates in percent, times in seconds, ratings out of 5."""
    if value is None:
        return "n/a"
    if key.endswith("_rate"):
        return f"{value:.1%}"
    if key in LIKENESS_SCORES:
        return f"{value:.0%}"
    if key in PER_AVATAR:
        return f"{value:.2f}"
    if key.endswith("_s"):
        # Hundredths below 10 s, so that a preview's 0.35 s average and 0.37 s p95 read apart and in order.
        return f"{value:.2f} s" if round(value, 2) < 10 else f"{value:.1f} s"
    if key == "avg_rating":
        return f"{value:.2f} / 5"
    return f"{value:,}"


def target_text(target: Target) -> str:
    """`> 95.0%`, `< 120.0 s`: the target as people read it."""
    return f"{target.comparison} {display(target.key, target.threshold)}"

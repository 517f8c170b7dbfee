"""Generation rows whose maker may be gone: leases renewed while a process makes them, and the dead ones settled.

A `processing` row is held by the process making it (`photomaker.generation.work_leases`). When the lease runs out
or its owner has ended, the row is settled here: a pack that kept avatars is completed with them and the rest
refunded exactly; any other is failed and refunded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from photomaker.store import ledger, rollups
from photomaker.store.generations import fail_processing, finish_processing, reread
from photomaker.store.models import Avatar, Generation, utc


def renew(session: Session, generation_ids: Sequence[int], *, owner: str, until: datetime) -> int:
    """Extend `owner`'s lease on these rows while they are `processing`; returns how many it still holds."""
    result = session.exec(
        update(Generation)
        .where(
            col(Generation.id).in_(generation_ids),
            col(Generation.status) == "processing",
            col(Generation.owner) == owner,
        )
        .values(lease_until=until)
    )
    return result.rowcount


def _complete_made(session: Session, generation_id: int, *, unless: Any) -> bool:
    """Complete a dead generation with the avatars it had kept (a pack keeps each group as it ends) and refund the
    images it never made, exactly; False where it kept none, or asked for no count (rows made before packs)."""
    scores = list(
        session.exec(
            select(Avatar.likeness).where(Avatar.generation_id == generation_id).order_by(col(Avatar.id))
        ).all()
    )
    row = reread(session, generation_id)
    if not scores or not row.images_asked:
        return False
    each, not_made = row.credits_charged // row.images_asked, row.images_asked - len(scores)
    said = f"The app stopped after {len(scores)} of {row.images_asked} avatars: {not_made * each} credits back"
    if not finish_processing(
        session,
        generation_id,
        unless=unless,
        status="completed",
        images_kept=len(scores),
        credits_refunded=not_made * each,
        likeness=scores,
        notes=[*(row.notes or []), said],
    ):
        return False
    ledger.refund(session, generation_id=generation_id, amount=not_made * each, note=said)
    rollups.add(session, reread(session, generation_id))
    return True


def recover_dead(session: Session, *, now: datetime, ended: Callable[[str | None], bool]) -> list[tuple[int, int]]:
    """Settle every `processing` row whose lease ran out before `now`, or whose owner has `ended` (rows made
    before leases count as dead): one that kept avatars is completed with them and the rest refunded; the others
    are failed and refunded, and returned as (user id, generation id), so that their files can go.

    A row whose owner renewed its lease since it was read here is left alone: its owner is alive.
    """
    rows = session.exec(
        select(Generation.id, Generation.user_id, Generation.owner, Generation.lease_until).where(
            Generation.status == "processing"
        )
    ).all()
    dead = []
    for generation_id, user_id, owner, lease_until in rows:
        if generation_id is None:
            continue
        expired = lease_until is None or utc(lease_until) < now
        if not (expired or ended(owner)):
            continue
        # An ended owner renews nothing; an expired lease counts only if nobody renewed it since it was read.
        renewed = col(Generation.lease_until) > lease_until if expired and lease_until is not None else None
        message = "The app stopped while this was generating."
        if _complete_made(session, generation_id, unless=renewed):
            continue
        if fail_processing(session, generation_id, code="INTERRUPTED", message=message, unless=renewed) is not None:
            dead.append((user_id, generation_id))
    return dead

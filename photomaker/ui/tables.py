"""Tables as the page draws them: plain HTML that wraps to the screen, so that every value reads whole at 390 px
and at 1400 px.

Gradio's Dataframe gives each column a fixed width and cuts what does not fit it (on a phone the credit history
read "-7" for -72); these tables wrap words instead, keep every number on one line, and on a phone show each row
as a card of named values, two to a line (`theme.CSS`), since even four columns leave a phone too little room.
"""

from __future__ import annotations

import html
import math
from collections.abc import Collection, Sequence
from typing import Any


def cell_text(value: Any) -> str:
    """A value as a cell shows it: nothing for a missing one, whole numbers without ".0"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def table_html(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    caption: str,
    numbers: Collection[str] = (),
    empty: str = "Nothing yet.",
) -> str:
    """A table of `rows` under `columns` (those in `numbers` aligned right, each value on one line), titled by
    `caption`; `empty` says so when there are no rows."""
    kinds = ["number" if column in numbers else "text" for column in columns]
    head = "".join(
        f'<th scope="col" class="{kind}">{html.escape(column)}</th>'
        for column, kind in zip(columns, kinds, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{kind}" data-label="{html.escape(column)}">{html.escape(cell_text(value))}</td>'
            for column, kind, value in zip(columns, kinds, row, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    if not rows:
        body = f'<tr><td class="text" colspan="{len(columns)}">{html.escape(empty)}</td></tr>'
    return (
        f'<div class="table-scroll"><table class="page-table"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )

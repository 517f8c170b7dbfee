"""The page's HTML tables: every value whole and escaped, numbers marked to stay on one line, an empty table said."""

from __future__ import annotations

import math
import re

from photomaker.ui.tables import cell_text, table_html


def test_cells_show_missing_values_as_nothing_and_whole_numbers_without_a_point() -> None:
    assert [cell_text(value) for value in (None, math.nan, 5.0, 70.3, 12, "-72")] == ["", "", "5", "70.3", "12", "-72"]


def test_a_table_names_every_value_escapes_it_and_keeps_numbers_on_one_line() -> None:
    shown = table_html(["who", "change"], [["<b>bob</b>", "+1000"]], caption="Credits & more", numbers=["change"])
    assert "<caption>Credits &amp; more</caption>" in shown and "<b>" not in shown
    assert re.findall(r'<td class="(\w+)" data-label="(\w+)">([^<]*)</td>', shown) == [
        ("text", "who", "&lt;b&gt;bob&lt;/b&gt;"),
        ("number", "change", "+1000"),
    ]


def test_an_empty_table_says_so_across_its_columns() -> None:
    assert '<td class="text" colspan="2">Nothing yet.</td>' in table_html(["a", "b"], [], caption="c")

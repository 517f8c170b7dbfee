"""The page's events, called by field name as the browser sends the Generate form (no browser needed)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import gradio as gr

from photomaker.ui.generate_form import GenerateForm


class PageEvents:
    """`events("ui_generate", prompt=..., tier=...)`: the form's other widgets keep their initial values, and the
    updates come back keyed by widget name (the form's field names, `rating_stars` and `my_data_confirm` for those of
    its rating row and data section; other widgets by `elem_id`)."""

    def __init__(self, demo: gr.Blocks) -> None:
        self.functions = {fn.api_name: fn for fn in demo.fns.values() if fn.api_name}
        self.form: GenerateForm = self.functions["ui_generate"].fn.__self__.form
        parts = {"rating": self.form.rating, "my_data": self.form.my_data}
        inner = {
            f"{part}_{item.name}": getattr(group, item.name) for part, group in parts.items() for item in fields(group)
        }
        self.widgets = {**self.form.named(), **inner}
        self.names = {id(widget): name for name, widget in self.widgets.items()}

    def name(self, widget: Any) -> str:
        return self.names.get(id(widget)) or widget.elem_id or str(widget.label).lower()

    def __call__(self, api_name: str, /, **values: Any) -> Any:
        """What the page shows once the event is over."""
        result = self._run(api_name, values)
        if inspect.isgenerator(result):  # the page shows each update as it comes: what it shows at the end
            result = _last_of_each(result)
        return self._named(result)

    def stream(self, api_name: str, /, **values: Any) -> Iterator[Any]:
        """Each update a generator event sends the page, as it comes."""
        yield from (self._named(update) for update in self._run(api_name, values))

    def _named(self, result: Any) -> Any:
        return {self.name(widget): value for widget, value in result.items()} if isinstance(result, dict) else result

    def _run(self, api_name: str, values: dict[str, Any]) -> Any:
        block = self.functions[api_name]
        specials = {"profile": None, "request": None}
        wanted = inspect.signature(block.fn).parameters
        options = {key: values.pop(key, default) for key, default in specials.items() if key in wanted}
        data = {widget: values.pop(self.name(widget), widget.value) for widget in block.inputs}
        if values:
            raise TypeError(f"{api_name} does not take {sorted(values)}")
        return block.fn(data, **options)


def _last_of_each(updates: Iterator[Any]) -> Any:
    """The updates a generator event yields, merged: each widget as its last update left it (or a skip)."""
    merged: dict[Any, Any] = {}
    for update in updates:
        if not isinstance(update, dict):
            return update
        merged.update(update)
    return merged

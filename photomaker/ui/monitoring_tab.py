"""The Monitoring tab (charts of how generation is going arrive with the monitoring work)."""

from __future__ import annotations

import gradio as gr


def build_monitoring_tab() -> None:
    gr.Markdown(
        "### Monitoring\nSuccess rate, generation time, failures, adoption and satisfaction against their "
        "targets will appear here."
    )

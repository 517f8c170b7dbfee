"""The HTTP edge: what every request passes before it reaches Gradio or the REST API (no gradio imports)."""

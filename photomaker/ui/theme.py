"""How the page looks: the theme (colours that meet WCAG AA in light and dark) and the CSS that fits it to a phone.

One page for every screen: Gradio's rows wrap where their columns' `min_width` no longer fits, and the CSS
below only keeps words whole, shows every image uncropped with its caption under it, and lets grids shrink.
"""

from __future__ import annotations

import gradio as gr

THEME = gr.themes.Soft(
    primary_hue="indigo",
    font=["ui-sans-serif", "system-ui", "sans-serif"],
    font_mono=["ui-monospace", "monospace"],
).set(
    # The Soft theme's indigo 500 and grey 400 text fall short of 4.5:1 on white and on indigo 100.
    block_label_text_color="*primary_700",
    block_title_text_color="*primary_700",
    block_info_text_color="*neutral_600",
    body_text_color_subdued="*neutral_600",
    color_accent="*primary_600",
    button_primary_background_fill="*primary_600",
    button_primary_background_fill_hover="*primary_700",
    checkbox_label_background_fill_selected="*primary_600",
)

CSS = """
/* The theme has one accent for both modes; indigo 600 is too dark to read on the dark background. */
.dark { --color-accent: var(--primary-400); }
#title h1 { overflow-wrap: normal; word-break: normal; hyphens: none; margin-bottom: 0.2em; }
@media (max-width: 480px) { #title h1 { font-size: 1.7rem; } }
#who { text-align: right; align-self: center; }
.hint { font-size: 0.85em; margin-top: -0.5em; }
#engine-note { padding: 0.6em 0.9em; border-radius: 8px; background: var(--block-background-fill); }

/* The photos' note beside Forget my photos on a laptop, above it on a phone. */
#photos-hint { min-width: 260px; flex: 1 1 260px; }

/* While this page generates: what is happening and Cancel, fixed at the bottom of the screen, in view wherever
   the page is scrolled, on a laptop and a phone alike. */
#working {
    position: fixed; left: 50%; bottom: 12px; transform: translateX(-50%); z-index: 100;
    width: min(760px, calc(100vw - 24px)); align-items: center; flex-wrap: nowrap; gap: 12px;
    padding: 10px 14px; border-radius: 12px; border: 1px solid var(--border-color-primary);
    background: var(--background-fill-primary); box-shadow: 0 6px 24px rgb(0 0 0 / 0.25);
}
/* On a laptop, over the results' side, leaving the form's price and buttons in view. */
@media (min-width: 1000px) { #working { left: auto; right: 24px; transform: none; width: 560px; } }
#status { flex: 1 1 auto; min-width: 0; }
#status .working-line { font-weight: 600; overflow-wrap: anywhere; }
#status .working-step { font-size: 0.85em; color: var(--body-text-color-subdued); overflow-wrap: anywhere; }
#status progress {
    appearance: none; width: 100%; height: 8px; border: 0; border-radius: 4px; background: var(--neutral-200);
}
#status progress::-webkit-progress-bar { background: var(--neutral-200); border-radius: 4px; }
#status progress::-webkit-progress-value { background: var(--color-accent); border-radius: 4px; }

/* Results and history: every image whole, its caption under it (never over it), grids that shrink. */
#results .thumbnail-item, #history .thumbnail-item {
    aspect-ratio: auto; height: auto; display: flex; flex-direction: column; overflow: visible;
}
#results .thumbnail-item > img, #history .thumbnail-item > img { object-fit: contain; height: auto; flex: none; }
#results .caption-label, #history .caption-label {
    position: static; max-width: none; white-space: normal; text-align: center; opacity: 1;
    border: 0; border-radius: 0; background: transparent; overflow: visible;
}
#results .grid-wrap, #history .grid-wrap { overflow-x: hidden; }
/* Room above the first row for the gallery's label and buttons, which would otherwise sit on the images. */
#results .grid-wrap { max-height: none; min-height: 0; overflow-y: visible; padding-top: 2.75em; }
@media (max-width: 480px) { #results .caption-label { font-size: 0.85em; } }
#results .grid-container {
    grid-template-columns: repeat(var(--grid-cols), minmax(0, 1fr)); grid-template-rows: none; grid-auto-rows: auto;
}
#history .grid-container {
    grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); grid-template-rows: none; grid-auto-rows: auto;
}
#history .caption-label { font-size: 0.75em; line-height: 1.3; padding: 2px 4px; }

/* Each style's example above the style picker: small, named, as many to a row as fit. */
.style-examples { display: grid; grid-template-columns: repeat(auto-fill, minmax(64px, 1fr)); gap: 6px; }
.style-examples figure { margin: 0; text-align: center; }
.style-examples img { width: 56px; height: 56px; border-radius: 6px; display: block; margin: 0 auto; }
.style-examples figcaption { font-size: 0.7em; line-height: 1.2; margin-top: 2px; overflow-wrap: anywhere; }
/* The style and preset pickers' typing boxes are subdued grey by default, too faint on the dark background. */
#styles input, #preset input { color: var(--body-text-color); }

/* Monitoring's headline cards, as many to a row as fit, and verdicts that read on both themes. */
#headline { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; }
#headline .card {
    padding: 12px 14px; border-radius: 10px; border: 1px solid var(--border-color-primary);
    background: var(--block-background-fill);
}
#headline .card-title, #headline .card-detail { font-size: 0.8em; color: var(--body-text-color-subdued); }
#headline .card-value { font-size: 1.6em; font-weight: 700; margin: 2px 0; }
.verdict { font-size: 0.9em; font-weight: 600; }
.verdict-met { color: #15803d; }
.verdict-missed { color: #b91c1c; }
.verdict-unknown { color: #4b5563; }
.dark .verdict-met { color: #4ade80; }
.dark .verdict-missed { color: #f87171; }
.dark .verdict-unknown { color: #9ca3af; }
"""

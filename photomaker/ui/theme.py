"""How the page looks: the theme (colours that meet WCAG AA in light and dark) and the CSS that fits it to a phone.

One page for every screen: Gradio's rows wrap where their columns' `min_width` no longer fits, and the CSS
below only keeps words whole, shows every image uncropped with its caption under it, and lets grids shrink.
"""

from __future__ import annotations

import gradio as gr

STOP_RED, STOP_RED_HOVER, STOP_RED_DARK = "#b91c1c", "#991b1b", "#dc2626"
"""Tailwind's red 700, 800 and 600: the stop buttons' colours."""

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
    # The Soft theme draws a "stop" button (Delete my data, Cancel) as a plain one; it should look dangerous. White
    # on red 700 is 6.5:1, on red 600 (dark, where red 700 would sink into the background) 4.8:1.
    button_cancel_background_fill=STOP_RED,
    button_cancel_background_fill_hover=STOP_RED_HOVER,
    button_cancel_border_color=STOP_RED,
    button_cancel_text_color="white",
    button_cancel_text_color_hover="white",
    button_cancel_background_fill_dark=STOP_RED_DARK,
    button_cancel_background_fill_hover_dark=STOP_RED,
    button_cancel_border_color_dark=STOP_RED_DARK,
    button_cancel_text_color_dark="white",
    button_cancel_text_color_hover_dark="white",
)

CSS = """
/* The theme has one accent for both modes; indigo 600 is too dark to read on the dark background. */
.dark { --color-accent: var(--primary-400); }
#title h1 { overflow-wrap: normal; word-break: normal; hyphens: none; margin-bottom: 0.2em; }
@media (max-width: 480px) { #title h1 { font-size: 1.7rem; } }
#who { text-align: right; align-self: center; }
.hint { font-size: 0.85em; margin-top: -0.5em; }
#engine-note { padding: 0.6em 0.9em; border-radius: 8px; background: var(--block-background-fill); }

/* Where a generation's outcome goes: scrolled to when one ends, a little below the screen's top edge. */
#results-area { scroll-margin-top: 12px; }
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

/* The photos' label and buttons take their own room above the photos (the label is two lines on a phone): neither
   ever covers a face. The photos are squares, as many to a row as fit. */
#photos > label[data-testid="block-label"] { position: static; margin: 0; }
#photos .grid-wrap { max-height: none; min-height: 0; overflow-y: visible; padding-top: 2.25em; }
#photos .grid-container {
    grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); grid-template-rows: none; grid-auto-rows: auto;
}

/* Each style's example above the style picker: small, named, as many to a row as fit. */
.style-examples { display: grid; grid-template-columns: repeat(auto-fill, minmax(64px, 1fr)); gap: 6px; }
.style-examples figure { margin: 0; text-align: center; }
.style-examples img { width: 56px; height: 56px; border-radius: 6px; display: block; margin: 0 auto; }
.style-examples figcaption { font-size: 0.7em; line-height: 1.2; margin-top: 2px; overflow-wrap: anywhere; }
/* The style and preset pickers' typing boxes are subdued grey by default, too faint on the dark background. */
#styles input, #preset input { color: var(--body-text-color); }

/* Monitoring's headline cards, as many to a row as fit, and verdicts that read on both themes. Each card spans
   four rows of the grid (title, value, detail, verdict), so that the values of a row of cards line up even where a
   title takes two lines. */
#headline { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; }
#headline .card {
    padding: 12px 14px; border-radius: 10px; border: 1px solid var(--border-color-primary);
    background: var(--block-background-fill);
    display: grid; grid-row: span 4; grid-template-rows: subgrid; row-gap: 0; align-content: start;
}
#headline .card > * { align-self: start; }
#headline .card-title, #headline .card-detail { font-size: 0.8em; color: var(--body-text-color-subdued); }
#headline .card-value { font-size: 1.6em; font-weight: 700; margin: 2px 0; }
.verdict { font-size: 0.9em; font-weight: 600; }
.verdict-met { color: #15803d; }
.verdict-missed { color: #b91c1c; }
.verdict-unknown { color: #4b5563; }
.dark .verdict-met { color: #4ade80; }
.dark .verdict-missed { color: #f87171; }
.dark .verdict-unknown { color: #9ca3af; }

/* Tables (`tables`): words wrap, numbers stay on one line, nothing is cut; on a phone each row is a card of named
   values, two to a line. `table.page-table` outranks the borders Gradio gives every table in HTML. */
.table-scroll { max-height: 30em; overflow: auto; }
table.page-table { width: 100%; border-collapse: collapse; border: 0; margin: 0; font-size: 0.875em; }
table.page-table caption {
    text-align: left; font-weight: 600; color: var(--block-label-text-color); padding: 0 0 0.4em;
}
table.page-table tr { border: 0; border-bottom: 1px solid var(--border-color-primary); background: none; }
table.page-table th, table.page-table td { padding: 5px 8px; border: 0; vertical-align: top; text-align: left; }
table.page-table th { font-weight: 600; }
table.page-table .text { overflow-wrap: anywhere; }
table.page-table .number { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
@media (max-width: 640px) {
    table.page-table thead { display: none; }
    table.page-table tr {
        display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 4px 12px; padding: 6px 0;
    }
    table.page-table td.text, table.page-table td.number { display: block; padding: 0; text-align: left; }
    table.page-table td::before {
        content: attr(data-label); display: block; font-size: 0.8em; color: var(--body-text-color-subdued);
    }
    table.page-table td:empty { display: none; }
}
"""

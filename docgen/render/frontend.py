"""Outputs whose richest form needs a live front end (ipywidgets, plotly's JSON, JavaScript).

A static page cannot run them, so it shows the fallback the output carries with a note that
says so, or the note alone: such an output never vanishes from the page without a word.
"""

from __future__ import annotations

import html

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def widget_models(metadata: object) -> dict[str, str]:
    """Widget model id -> widget name (`IntSlider`), from the widget state a notebook saves
    in its metadata (nbclient and JupyterLab both store it there)."""
    widgets = metadata.get("widgets") if isinstance(metadata, dict) else None
    saved = widgets.get(WIDGET_STATE) if isinstance(widgets, dict) else None
    state = saved.get("state") if isinstance(saved, dict) else None
    names = {}
    for model_id, model in (state or {}).items() if isinstance(state, dict) else ():
        name = model.get("model_name") if isinstance(model, dict) else None
        if isinstance(model_id, str) and isinstance(name, str) and name:
            names[model_id] = name.removesuffix("Model")
    return names


def _note(text: str) -> str:
    return f'<p class="output-note">{html.escape(text)}</p>'


def widget_name(data: dict, models: dict[str, str]) -> str:
    """The widget an output shows, by name where the notebook saved its state, else by id."""
    view = data.get(WIDGET_VIEW)
    model_id = view.get("model_id") if isinstance(view, dict) else None
    if not isinstance(model_id, str) or not model_id:
        return ""
    return models.get(model_id) or f"model {model_id}"


def frontend_note(data: dict, has_fallback: bool, models: dict[str, str]) -> str:
    """The note that follows an output's static form, or stands for it when it has none;
    "" when the output needs no note (no front-end-only form, or nothing at all)."""
    if WIDGET_VIEW in data:
        if has_fallback:
            return _note("An interactive widget; this page shows its static form.")
        name = widget_name(data, models)
        named = f" ({name})" if name else ""
        return _note(
            f"An interactive widget{named}: it has no static form, so only a live "
            "notebook shows it."
        )
    if has_fallback or not data:
        return ""
    kinds = ", ".join(sorted(str(k) for k in data))
    return _note(
        f"An output of type {kinds}: it has no static form, so only a live notebook shows it."
    )

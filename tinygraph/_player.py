"""The HTML player of a trace: every step's diagram inline, Prev / Next / a slider, the words beside.

One template serves both uses: ``page`` wraps the player in a whole document for
``Steps.save_html``; ``fragment`` is the same player for Jupyter's ``_repr_html_``. Everything
is inline (the SVGs, the style, the script), so the file works offline and loads nothing; without
JavaScript every frame is shown, one after another.
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass

_ids = itertools.count(1)
MIN_SCALE = 0.8  # a diagram shrinks to fit the page down to this fraction of its size, then scrolls


@dataclass(frozen=True)
class Frame:
    """One position of the player: a title, its lines of words, its diagram as inline SVG.

    ``focus`` is the SVG id (the ``<title>`` of dot's group) of the item the step is about: the
    player scrolls a diagram wider than the page so that it is in view.
    """

    title: str
    words: list[str]
    svg: str = ""
    focus: str = ""


STYLE = """
.tgp { font-family: Helvetica, Arial, sans-serif; color: #222; max-width: 100%; }
.tgp h1 { font-size: 1.25em; margin: 0 0 0.5em 0; }
.tgp-controls { display: flex; align-items: center; gap: 0.6em; margin: 0 0 0.6em 0; flex-wrap: wrap; }
.tgp-controls button { font-size: 1em; padding: 0.3em 0.9em; border: 1px solid #888; border-radius: 4px;
  background: #f4f4f4; cursor: pointer; }
.tgp-controls button:disabled { color: #aaa; border-color: #ccc; cursor: default; }
.tgp-controls input[type=range] { flex: 1 1 12em; max-width: 28em; }
.tgp-position { font-variant-numeric: tabular-nums; color: #555; min-width: 6em; }
.tgp-legend { font-size: 0.85em; color: #444; margin: 0 0 0.6em 0; }
.tgp-legend span { display: inline-block; margin-right: 1em; white-space: nowrap; }
.tgp-swatch { display: inline-block; width: 1.4em; height: 0.8em; border: 1px solid; border-radius: 0.4em;
  vertical-align: middle; margin-right: 0.3em; }
.tgp-frame { display: flex; gap: 1.2em; align-items: flex-start; flex-wrap: wrap; margin-bottom: 1.5em; }
.tgp.tgp-js .tgp-frame { display: none; }
.tgp.tgp-js .tgp-frame.tgp-current { display: flex; }
.tgp-diagram { flex: 1 1 auto; min-width: 0; overflow-x: auto; border: 1px solid #ddd; border-radius: 4px;
  padding: 4px; background: #fff; }
.tgp-diagram svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
.tgp.tgp-full .tgp-diagram svg { max-width: none; }
.tgp-diagram { cursor: zoom-in; }
.tgp.tgp-full .tgp-diagram { cursor: zoom-out; }
.tgp-words { flex: 1 0 22em; max-width: 48em; font-size: 0.95em; line-height: 1.45; }
.tgp-words h2 { font-size: 1.05em; margin: 0 0 0.4em 0; color: #a33a16; }
.tgp-words p { margin: 0 0 0.35em 0; }
.tgp-words p.tgp-sent { font-weight: bold; }
.tgp-words p.tgp-aside { margin-left: 1.2em; color: #555; }
.tgp-note { color: #555; font-style: italic; }
"""

SCRIPT = """
(function () {
  var root = document.getElementById("%(id)s");
  if (!root) { return; }
  var frames = root.querySelectorAll(".tgp-frame");
  var slider = root.querySelector(".tgp-slider");
  var prev = root.querySelector(".tgp-prev");
  var next = root.querySelector(".tgp-next");
  var position = root.querySelector(".tgp-position");
  var current = 0;
  function show(k) {
    current = Math.max(0, Math.min(frames.length - 1, k));
    for (var i = 0; i < frames.length; i++) {
      frames[i].classList.toggle("tgp-current", i === current);
    }
    slider.value = current;
    prev.disabled = current === 0;
    next.disabled = current === frames.length - 1;
    position.textContent = current === 0 ? "start" : "step " + current + " of " + (frames.length - 1);
    root.setAttribute("data-step", String(current));
    reveal(frames[current]);
  }
  function reveal(frame) {  // scroll a wide diagram so that the step's node is in the middle
    var box = frame.querySelector(".tgp-diagram");
    var focus = frame.getAttribute("data-focus");
    if (!box || !focus) { return; }
    var groups = box.querySelectorAll("g.node");
    for (var i = 0; i < groups.length; i++) {
      var title = groups[i].querySelector("title");
      if (title && title.textContent === focus) {
        var outer = box.getBoundingClientRect(), inner = groups[i].getBoundingClientRect();
        box.scrollLeft += inner.left + inner.width / 2 - (outer.left + outer.width / 2);
        return;
      }
    }
  }
  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  root.addEventListener("keydown", function (event) {
    if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
    if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
  });
  var diagrams = root.querySelectorAll(".tgp-diagram");
  for (var j = 0; j < diagrams.length; j++) {
    diagrams[j].title = "click: full size / fit the page";
    diagrams[j].addEventListener("click", function () { root.classList.toggle("tgp-full"); });
  }
  root.classList.add("tgp-js");
  show(0);
})();
"""


def fragment(
    frames: list[Frame], title: str = "", note: str = "", key: str = "", uid: str | None = None
) -> str:
    """The player as one ``<div>`` with its style and script, for a notebook or a page.

    ``key`` is the legend's HTML (see ``legend``), shown once above the frames.
    """
    uid = uid or f"tgp-{next(_ids)}"
    parts = [f'<div class="tgp" id="{uid}" tabindex="0">', f"<style>{STYLE}</style>"]
    if title:
        parts.append(f"<h1>{html.escape(title)}</h1>")
    if note:
        parts.append(f'<p class="tgp-note">{html.escape(note)}</p>')
    last = len(frames) - 1
    parts.append(
        '<div class="tgp-controls">'
        '<button type="button" class="tgp-prev" aria-label="previous step">◀ Prev</button>'
        f'<input type="range" class="tgp-slider" min="0" max="{last}" value="0" step="1" aria-label="step">'
        '<button type="button" class="tgp-next" aria-label="next step">Next ▶</button>'
        f'<span class="tgp-position">{last} steps</span>'
        "</div>"
    )
    parts.append(key)
    for number, frame in enumerate(frames):
        parts.append(f'<div class="tgp-frame" data-frame="{number}" data-focus="{html.escape(frame.focus)}">')
        if frame.svg:
            # As wide as the drawing when there is room, so the words sit beside a narrow graph
            # and below a wide one, which then shrinks to the page's width, but never below
            # MIN_SCALE of its size (its labels would be too small to read): it scrolls instead.
            width = _width_px(frame.svg)
            svg = frame.svg
            basis = ""
            if width:
                basis = f' style="flex-basis: {width}px"'
                svg = svg.replace("<svg", f'<svg style="min-width: {round(width * MIN_SCALE)}px"', 1)
            parts.append(f'<div class="tgp-diagram"{basis}>{svg}</div>')
        parts.append('<div class="tgp-words">' + f"<h2>{html.escape(frame.title)}</h2>")
        parts += [_line(line) for line in frame.words]
        parts.append("</div></div>")
    parts.append(f"<script>{SCRIPT % {'id': uid}}</script></div>")
    return "\n".join(parts)


def page(frames: list[Frame], title: str, key: str = "") -> str:
    """A whole HTML document holding the player and nothing from the network."""
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{html.escape(title)}</title>\n"
        "<style>body { margin: 1.2em; background: #fafafa; }</style>\n</head>\n<body>\n"
        f"{fragment(frames, title, key=key, uid='tgp-player')}\n</body>\n</html>\n"
    )


def legend(entries: list[tuple[str, str, str]], notes: list[str]) -> str:
    """A line of swatches ``(fill, border, meaning)`` and short notes (HTML), shown once above the frames."""
    swatch = '<span><i class="tgp-swatch" style="background: {}; border-color: {}"></i>{}</span>'
    swatches = [swatch.format(fill, border, html.escape(text)) for fill, border, text in entries]
    return '<p class="tgp-legend">' + "".join(swatches + [f"<span>{note}</span>" for note in notes]) + "</p>"


def _width_px(svg: str) -> int | None:
    """The drawing's natural width in CSS pixels, from dot's ``width="…pt"``."""
    found = re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', svg)
    return round(float(found[1]) * 4 / 3) + 10 if found else None


def _line(text: str) -> str:
    kind = ""
    if text.startswith("→"):
        kind = ' class="tgp-sent"'
    elif text.startswith(" "):
        kind = ' class="tgp-aside"'
    return f"<p{kind}>{html.escape(text.strip())}</p>"

"""The HTML report and the self-contained SVG export.

`render_html(report)` gives one HTML file with everything inline (no network): the verdict,
findings as cards, each pair of curves as an interactive chart, the layer alignment diagram,
the node differences, hyper-parameters and warnings. `export_svg(console, title)` turns a
recording rich Console into an SVG that uses local fonts only.

Modules: `page` (the document), `curves` (the points each chart gets), `diagram` (the layer
alignment SVG), `svg` (the terminal SVG export); `assets/` holds the template, CSS and JS.
"""

from tbdiff.html.page import render_html
from tbdiff.html.svg import export_svg

__all__ = ["export_svg", "render_html"]

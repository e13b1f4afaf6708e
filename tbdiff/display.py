"""How a Report shows itself outside the CLI: in Jupyter (HTML) and in a rich console.

Both reuse the command's own output, never a second layout: the notebook gets the HTML report
(`tbdiff.html.render_html`) inside a sandboxed `<iframe srcdoc>`, because the page is a whole
document (its own CSS, scripts and Content-Security-Policy) that must neither restyle the
notebook nor be restyled by it, and a notebook output cell only runs scripts inside an iframe.
A rich console gets the terminal report (`tbdiff.render.render_report`) drawn at its width and
colour system.
"""

from __future__ import annotations

import io
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from tbdiff.report import Report

#: iframe height: the verdict, the findings and the first curves without scrolling the notebook;
#: the frame scrolls inside and can be resized by its corner.
FRAME_HEIGHT = "720px"


def notebook_html(report: Report) -> str:
    """The HTML report as one `<iframe>`: scripts allowed, no same-origin access (the page
    cannot reach the notebook, its cookies or the kernel), no network (the page's own CSP)."""
    from tbdiff.html import render_html

    page = render_html(report)
    title = f"tbdiff: {report.a.label or 'A'} vs {report.b.label or 'B'}"
    return (
        f'<iframe class="tbdiff-report" title="{escape(title)}" sandbox="allow-scripts" '
        f'srcdoc="{escape(page, quote=True)}" style="width:100%;height:{FRAME_HEIGHT};'
        'border:1px solid rgba(128,128,128,.35);border-radius:4px;resize:vertical"></iframe>'
    )


class TerminalReport:
    """A rich renderable drawing the terminal report at the console's width and colours."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.console import Console
        from rich.text import Text

        from tbdiff.render import render_report

        buf = io.StringIO()
        inner = Console(
            file=buf,
            width=options.max_width,
            force_terminal=True,
            color_system=console.color_system,  # None when the console has no colour
            no_color=console.no_color,
            highlight=False,
            emoji=False,
            force_jupyter=False,
        )
        render_report(self.report, inner)
        text = buf.getvalue().rstrip("\n")
        yield Text.from_ansi(text, no_wrap=True, overflow="ignore")

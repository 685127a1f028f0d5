"""The report as one self-contained HTML page: plots embedded as data URIs, styles inline,
nothing fetched from anywhere, so it opens offline from a copied folder or an e-mail."""

import base64
import html
import re

from .content import (
    CAPACITY_HEADING,
    PEERS_HEADING,
    TARGETS_HEADING,
    RenderedPlot,
    ReportContent,
    environment_items,
)
from .tables import Table

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.invalid td { background: #fde8e8; }
.verdict { font-weight: bold; padding: 0.1em 0.5em; border-radius: 0.3em; color: white; }
.supported { background: #2a7d2a; } .contradicted { background: #b22222; }
.inconclusive { background: #c77700; } .not-measured { background: #777; }
figure { margin: 2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption ul { font-size: 0.85em; color: #444; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""


def _text(value: str) -> str:
    """Escaped text, with `backticks` shown as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(value))


def _claims(content: ReportContent) -> str:
    items = []
    for claim in content.claims:
        css = claim.verdict.replace(" ", "-")
        items.append(
            f"<li><strong>“{_text(claim.claim)}”</strong> "
            f'<span class="verdict {css}">{html.escape(claim.verdict)}</span>'
            f"<br>{_text(claim.evidence)}</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


def _plot(plot: RenderedPlot) -> str:
    data = base64.b64encode(plot.png).decode()
    notes = "".join(f"<li>{_text(n)}</li>" for n in plot.notes)
    return (
        f'<figure id="{plot.name}"><h3>{_text(plot.title)}</h3>'
        f'<img alt="{html.escape(plot.title)}" src="data:image/png;base64,{data}">'
        f"<figcaption><ul>{notes}</ul></figcaption></figure>"
    )


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(title)}</th>" for title in table.header)
    body = []
    for cells, invalid in zip(table.rows, table.invalid, strict=True):
        css = ' class="invalid"' if invalid else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    caption = f"<p>{_text(table.caption)}</p>" if table.caption else ""
    notes = "".join(f"<li>{_text(s)}</li>" for s in table.notes)
    return f"{caption}<table><tr>{head}</tr>{''.join(body)}</table>" + (
        f"<ul>{notes}</ul>" if notes else ""
    )


def render_html(content: ReportContent) -> str:
    env = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in environment_items(content.sweep.environment)
    )
    invalid = len(content.invalid_runs)
    baseline = "".join(f"<li>{_text(s)}</li>" for s in content.baseline)
    network = "".join(
        f"<h3>{_text(title)}</h3>{_table(table)}" for title, table in content.network_tables
    )
    scope = "".join(f"<p>{_text(line)}</p>" for line in content.scope)
    capacity = (
        f"<h2>{_text(CAPACITY_HEADING)}</h2>{_table(content.capacity)}"
        if content.capacity is not None
        else ""
    )
    targets = "".join(f"<li>{_text(line)}</li>" for line in content.targets)
    targets = f"<h2>{_text(TARGETS_HEADING)}</h2><ul>{targets}</ul>" if targets else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(content.title)}</title><style>{_STYLE}</style></head><body>
<h1>{html.escape(content.title)}</h1>
<p>{len(content.sweep.rows)} runs from <code>{html.escape(str(content.sweep.folder))}</code>,
{invalid} marked invalid (highlighted below). Every number on this page was computed from
those runs; lines marked theory or estimate are labelled so.</p>
{scope}
<h2>The argument, claim by claim</h2>
{_claims(content)}
<h2>Server cost against a bare broadcast loop</h2>
<ul>{baseline}</ul>
<h2>{_text(PEERS_HEADING)}</h2>
{_table(content.peers)}
{capacity}
<h2>Header overhead: the classic table, measured</h2>
{_table(content.overhead)}
<h2>Over a network: the runs through an emulated link</h2>
{network}
{targets}
<h2>Plots</h2>
{"".join(_plot(p) for p in content.plots)}
<h2>Runs</h2>
{_table(content.runs)}
<h2>Environment</h2>
<table>{env}</table>
<p>Reproduce: <code>chatlab bench</code>, then <code>chatlab report SWEEP</code>.</p>
</body></html>
"""

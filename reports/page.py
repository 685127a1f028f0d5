"""The report as one self-contained HTML page: plots embedded as data URIs, styles inline,
nothing fetched from anywhere, so it opens offline from a copied folder or an e-mail."""

import base64
import html
import re

from .content import (
    RUN_COLUMNS,
    TABLE_CLIENTS_HEADER,
    RenderedPlot,
    ReportContent,
    environment_items,
    fmt_mbps,
)
from .overhead import KAAZING_CLIENTS, OverheadTable

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


def _overhead(table: OverheadTable) -> str:
    head = "".join(f"<th>{h} (Mbps)</th>" for h in TABLE_CLIENTS_HEADER)
    rows = []
    for line in table.lines:
        mbps = "".join(
            f"<td>{fmt_mbps(line.mbps[n], line.source == 'published')}</td>"
            for n in KAAZING_CLIENTS
        )
        unit = "poll" if line.what == "polling" else "message"
        tcpip = "–" if line.tcpip_estimate is None else f"~{line.tcpip_estimate:,.0f} (estimate)"
        css = "" if line.valid else ' class="invalid"'
        source = line.source + ("" if line.valid else " (INVALID run)")
        rows.append(
            f"<tr{css}><td>{'polling once a second' if line.what == 'polling' else 'WebSocket'}"
            f"</td><td>{html.escape(source)}</td><td>{html.escape(line.profile or '–')}</td>"
            f"<td>{line.bytes_each:,.1f} per {unit}</td>{mbps}<td>{tcpip}</td></tr>"
        )
    said = "".join(f"<li>{_text(s)}</li>" for s in table.differences + table.missing)
    workload = f" (measured rows: `{table.workload}` workload)" if table.workload else ""
    intro = _text(
        "Overhead bytes at N clients, each polling (or receiving one message) once a second; "
        f"Mbps as in the article (2^20 bits){workload}."
    )
    return (
        f"<p>{intro}</p>"
        f"<table><tr><th>what</th><th>source</th><th>header profile</th><th>overhead bytes</th>"
        f"{head}<th>TCP/IP headers, bytes</th></tr>{''.join(rows)}</table><ul>{said}</ul>"
    )


def _runs(content: ReportContent) -> str:
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _ in RUN_COLUMNS)
    body = []
    for row in content.sweep.rows:
        css = "" if row.valid else ' class="invalid"'
        cells = "".join(f"<td>{html.escape(read(row))}</td>" for _, read in RUN_COLUMNS)
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render_html(content: ReportContent) -> str:
    env = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in environment_items(content.sweep.environment)
    )
    invalid = len(content.invalid_runs)
    baseline = "".join(f"<li>{_text(s)}</li>" for s in content.baseline)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(content.title)}</title><style>{_STYLE}</style></head><body>
<h1>{html.escape(content.title)}</h1>
<p>{len(content.sweep.rows)} runs from <code>{html.escape(str(content.sweep.folder))}</code>,
{invalid} marked invalid (highlighted below). Every number on this page was computed from
those runs; lines marked theory or estimate are labelled so.</p>
<h2>The argument, claim by claim</h2>
{_claims(content)}
<h2>Server cost against a bare broadcast loop</h2>
<ul>{baseline}</ul>
<h2>Header overhead: the classic table, measured</h2>
{_overhead(content.table)}
<h2>Plots</h2>
{"".join(_plot(p) for p in content.plots)}
<h2>Runs</h2>
{_runs(content)}
<h2>Environment</h2>
<table>{env}</table>
<p>Reproduce: <code>chatlab bench</code>, then <code>chatlab report SWEEP</code>.</p>
</body></html>
"""

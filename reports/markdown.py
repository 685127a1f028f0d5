"""The report as a Markdown summary, with the plots' PNG files beside it."""

from .content import CAPACITY_HEADING, PEERS_HEADING, TARGETS_HEADING, ReportContent
from .tables import Table


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Table) -> list[str]:
    """The table's lines: its caption, the pipe table, then its notes as a list."""
    lines = [table.caption, ""] if table.caption else []
    lines.append("| " + " | ".join(_cell(h) for h in table.header) + " |")
    lines.append("|" + "---|" * len(table.header))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    if table.notes:
        lines += ["", *(f"- {note}" for note in table.notes)]
    return lines


def render_markdown(content: ReportContent) -> str:
    out = [f"# {content.title}", ""]
    invalid = len(content.invalid_runs)
    out += [
        f"{len(content.sweep.rows)} runs from `{content.sweep.folder}`, {invalid} marked "
        "invalid. Every number here was computed from those runs.",
        "",
        *[part for line in content.scope for part in (line, "")],
        "## The argument, claim by claim",
        "",
    ]
    for claim in content.claims:
        out.append(f"- **“{claim.claim}”** — *{claim.verdict}*. {claim.evidence}")
    out += ["", "## Server cost against a bare broadcast loop", ""]
    out += [f"- {line}" for line in content.baseline]
    out += ["", f"## {PEERS_HEADING}", "", *markdown_table(content.peers)]
    if content.capacity is not None:
        out += ["", f"## {CAPACITY_HEADING}", "", *markdown_table(content.capacity)]
    out += ["", "## Header overhead: the classic table, measured", ""]
    out += markdown_table(content.overhead)
    out += ["", "## Over a network: the runs through an emulated link", ""]
    for title, table in content.network_tables:
        out += [f"### {title}", "", *markdown_table(table), ""]
    if content.targets:
        out += [f"## {TARGETS_HEADING}", "", *(f"- {line}" for line in content.targets), ""]
    out += ["## Plots", ""]
    for plot in content.plots:
        out += [f"### {plot.title}", "", f"![{plot.title}]({plot.file_name})", ""]
        out += [f"- {note}" for note in plot.notes] + [""]
    out += ["## Runs", ""]
    out += markdown_table(content.runs)
    return "\n".join(out) + "\n"

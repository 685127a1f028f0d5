"""The report as a Markdown summary, with the plots' PNG files beside it."""

from .content import RUN_COLUMNS, TABLE_CLIENTS_HEADER, ReportContent, fmt_mbps
from .overhead import KAAZING_CLIENTS


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(content: ReportContent) -> str:
    out = [f"# {content.title}", ""]
    invalid = len(content.invalid_runs)
    out += [
        f"{len(content.sweep.rows)} runs from `{content.sweep.folder}`, {invalid} marked "
        "invalid. Every number here was computed from those runs.",
        "",
        "## The argument, claim by claim",
        "",
    ]
    for claim in content.claims:
        out.append(f"- **“{claim.claim}”** — *{claim.verdict}*. {claim.evidence}")
    out += ["", "## Server cost against a bare broadcast loop", ""]
    out += [f"- {line}" for line in content.baseline]
    table = content.table
    out += ["", "## Header overhead: the classic table, measured", ""]
    if table.workload:
        out += [f"Measured rows from the `{table.workload}` workload; Mbps as in the article.", ""]
    rows = []
    for line in table.lines:
        unit = "poll" if line.what == "polling" else "message"
        rows.append(
            [
                "polling once a second" if line.what == "polling" else "WebSocket",
                line.source + ("" if line.valid else " (INVALID run)"),
                line.profile or "–",
                f"{line.bytes_each:,.1f} per {unit}",
                *(fmt_mbps(line.mbps[n], line.source == "published") for n in KAAZING_CLIENTS),
                "–" if line.tcpip_estimate is None else f"~{line.tcpip_estimate:,.0f} (estimate)",
            ]
        )
    header = ["what", "source", "header profile", "overhead bytes"]
    header += [f"{h} (Mbps)" for h in TABLE_CLIENTS_HEADER] + ["TCP/IP headers, bytes"]
    out += _table(header, rows) + [""]
    out += [f"- {s}" for s in table.differences + table.missing]
    out += ["", "## Plots", ""]
    for plot in content.plots:
        out += [f"### {plot.title}", "", f"![{plot.title}]({plot.file_name})", ""]
        out += [f"- {note}" for note in plot.notes] + [""]
    out += ["## Runs", ""]
    out += _table(
        [title for title, _ in RUN_COLUMNS],
        [[read(row) for _, read in RUN_COLUMNS] for row in content.sweep.rows],
    )
    return "\n".join(out) + "\n"

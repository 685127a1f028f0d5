"""`chatlab report [SWEEP]`: turn one sweep's folder into `SWEEP/report/`.

Writes `index.html` (self-contained, plots embedded), `summary.md` and one PNG per plot,
then prints the path of index.html as its last line. Without SWEEP, the newest sweep under
the results root (`--results-root`, `results/` by default) is used. matplotlib is imported
only when a report is built, because the CLI imports this module to build its parser.
"""

import argparse
import sys
from pathlib import Path

from lab.results import RESULTS_ROOT, SUMMARY_FILE

# None of these import matplotlib; `.render` (which does) is imported inside build_report.
from .content import compute
from .markdown import render_markdown
from .page import render_html
from .sweep import load_sweep, newest_sweep

REPORT_FOLDER = "report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sweep",
        nargs="?",
        type=Path,
        help="one sweep's folder, as `chatlab bench` made it (default: the newest sweep)",
    )
    parser.add_argument(
        "--results-root",
        type=Path,
        default=RESULTS_ROOT,
        help=f"where to look for the newest sweep (default: {RESULTS_ROOT}/)",
    )


def run(args: argparse.Namespace) -> int:
    folder = args.sweep or newest_sweep(args.results_root)
    if folder is None:
        print(
            f"chatlab report: no sweep under {args.results_root}/: run `chatlab bench` first, "
            "or name a sweep's folder.",
            file=sys.stderr,
        )
        return 1
    if not (Path(folder) / SUMMARY_FILE).is_file():
        print(f"chatlab report: {folder} holds no {SUMMARY_FILE}.", file=sys.stderr)
        return 1
    print(build_report(Path(folder)))
    return 0


def build_report(folder: Path) -> Path:
    """Write the report into `folder/report/` and return the path of its index.html."""
    from .render import render_plots  # matplotlib, only now

    sweep = load_sweep(folder)
    content = compute(sweep, render_plots(sweep))
    out = folder / REPORT_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    for plot in content.plots:
        (out / plot.file_name).write_bytes(plot.png)
    (out / "summary.md").write_text(render_markdown(content))
    index = out / "index.html"
    index.write_text(render_html(content))
    return index

"""`chatlab report [RESULTS_DIR]`: turn a sweep's results into `RESULTS_DIR/report/`.

Writes `index.html` (self-contained, plots embedded), `summary.md` and one PNG per plot,
then prints the path of index.html as its last line. Without RESULTS_DIR, the newest folder
under `results/` is used. matplotlib is imported only when a report is built, because the
CLI imports this module to build its parser.
"""

import argparse
import sys
from pathlib import Path

# None of these import matplotlib; `.render` (which does) is imported inside build_report.
from .content import compute
from .markdown import render_markdown
from .page import render_html
from .sweep import SUMMARY, load_sweep, newest_results

DEFAULT_ROOT = Path("results")
REPORT_FOLDER = "report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results_dir",
        nargs="?",
        type=Path,
        help="a results folder written by `chatlab bench` (default: the newest under results/)",
    )
    parser.add_argument(
        "--results-root",
        type=Path,
        default=DEFAULT_ROOT,
        help="where to look for the newest results folder (default: results/)",
    )


def run(args: argparse.Namespace) -> int:
    folder = args.results_dir or newest_results(args.results_root)
    if folder is None:
        print(
            f"chatlab report: no results under {args.results_root}/: run `chatlab bench` first, "
            "or name a results folder.",
            file=sys.stderr,
        )
        return 1
    if not (Path(folder) / SUMMARY).is_file():
        print(f"chatlab report: {folder} holds no {SUMMARY}.", file=sys.stderr)
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

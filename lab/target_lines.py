"""A sweep's targets (its `targets.json`, as loadtests/targets.py evaluates them) in words:
what the sweep prints at its end and what the report lists."""

from typing import Any


def target_lines(results: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Per target: its line, and a line per check (none for a target not in the sweep)."""
    lines = []
    for result in results:
        if result["run_id"] is None:
            lines.append((f"{result['target']}: {result['note']}", []))
            continue
        validity = "" if result.get("valid", True) else " (the run is INVALID)"
        checks = []
        for check in result["checks"]:
            value = "-" if check["value"] is None else f"{check['value']:,.4g}"
            limit = f"{check['limit']:g} {check['unit']}".strip()
            checks.append(f"{check['measure']}: {value} {check['unit']} (limit {limit}) — "
                          f"{check['note']}")  # fmt: skip
        lines.append((f"{result['target']} [{result['run_id']}]{validity}", checks))
    return lines

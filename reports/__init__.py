"""Figures and the report, drawn from a sweep's results."""

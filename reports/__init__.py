"""The report and its plots, drawn from a sweep's results."""

"""chatlab's command line: serve, bench, report."""

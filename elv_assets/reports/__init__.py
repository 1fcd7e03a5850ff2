"""Run reports and summaries: the HTML report, model and data cards, metrics.json, the terminal summary."""

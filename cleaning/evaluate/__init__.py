"""Quality evaluations: extraction against gold bodies, duplicate detection on simulated syndication."""

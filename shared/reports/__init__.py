"""Usage reports: visit summaries, visits, texts and call quality, CSV exports."""

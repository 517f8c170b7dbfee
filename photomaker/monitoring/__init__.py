"""Monitoring: how generation is going, for operators.

`views` says what an operator looks at (window, tier, demo rows) and which rollups that reads;
`metrics` reads a view's summary from the hourly rollups and `dashboard` adds its series over time;
`targets` holds what the figures mean and promise; `charts` draws them; `exports` writes CSVs;
`prometheus` serves `/metrics`; `histogram` holds the time and likeness buckets the rollups count
into; `demo_history` fills a database with synthetic generations to look at.
"""

"""Monitoring: how generation is going, for operators.

`metrics` reads the summary and charts' data from the hourly rollups; `charts` draws them;
`exports` writes CSVs; `prometheus` serves `/metrics`; `histogram` holds the time and likeness
buckets the rollups count into; `demo_history` fills a database with synthetic generations to look at.
"""

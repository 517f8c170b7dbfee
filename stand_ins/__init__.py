"""Stand-ins that the tests and the benchmarks share: tiny random weights and face models, fake servers on
127.0.0.1, the app served for real, and engine requests built as the service builds them.

Not part of the product: pyproject.toml ships `photomaker` and `seeds` only, and nothing in `photomaker/`
imports this package.
"""

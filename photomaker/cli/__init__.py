"""`python -m photomaker ...`: the same service as the page, from a terminal."""

"""Real servers on 127.0.0.1 that stand in for Hugging Face: shared by the tests and the benchmarks."""

"""Real servers on 127.0.0.1 that stand in for Hugging Face in the tests (a PhotoMaker-V2 Space, the Hub's whoami);
the fake inference server, which the benchmarks use too, is in `stand_ins/`."""

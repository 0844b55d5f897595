"""plutarc benchmarks: `make bench` runs them all and prints numbers (goals are not assertions)."""

"""Benchmarks: speed, cost and scale goals, measured as ratios within one run, results in bench/RESULTS.md."""

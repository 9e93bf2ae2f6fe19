"""fieldcrm benchmarks (scripts, not tests): see bench/run.py and BENCHMARKS.md."""

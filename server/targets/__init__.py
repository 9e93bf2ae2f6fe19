"""Targets (指标编审, SPEC R-K1): per user and period, with actuals computed from the records."""

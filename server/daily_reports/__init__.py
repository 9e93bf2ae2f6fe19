"""Daily reports (销售日报, SPEC R-K2): one per user and date, numbers filled from the day's records."""

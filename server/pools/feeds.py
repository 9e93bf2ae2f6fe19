"""pools sync feeds."""

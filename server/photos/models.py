"""Photo tables (filled in by the photo channel work)."""

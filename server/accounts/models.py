"""accounts tables."""

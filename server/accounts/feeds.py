"""accounts sync feeds."""

"""accounts sync mutation handlers."""

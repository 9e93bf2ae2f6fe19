"""approvals sync mutation handlers."""

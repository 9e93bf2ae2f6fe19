"""The content-addressed photo channel (SPEC §12 "Photos")."""

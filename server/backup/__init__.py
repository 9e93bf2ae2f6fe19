"""Backups (SPEC R-I3): `fieldcrm backup PATH` and `fieldcrm restore PATH`; see service.py."""

"""Visit verification (SPEC §7, R-V): pure functions, no Flask, no database.

- `exif.extract(data)` reads the facts verification needs from a photo's EXIF (time-limited).
- `checks.verify(evidence, settings)` judges one visit from its evidence.
"""

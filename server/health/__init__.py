"""`GET /api/v1/health`: is this app server fit to take traffic (database, schema, version)."""

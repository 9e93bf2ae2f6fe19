#!/usr/bin/env python3
"""Exit 0 when the PostgreSQL test server is reachable, 1 otherwise.

Used by `make test` to decide whether to run the PostgreSQL leg of the suite. The admin URL
(a superuser connection to the maintenance database) can be overridden with
FIELDCRM_TEST_PG_ADMIN_URL.
"""

import os
import sys

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> int:
    url = os.environ.get("FIELDCRM_TEST_PG_ADMIN_URL") or DEFAULT_URL
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a project dependency
        print(f"pg_available: psycopg is not installed: {exc}", file=sys.stderr)
        return 1
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means "not available"
        print(f"pg_available: cannot connect: {exc}".rstrip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

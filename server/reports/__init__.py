"""Reports and dashboards (SPEC §10, §13 "Reports"): a registry of report definitions, each a SQL
query built from the caller's filters and scoped by the access rule (R-O4), run, paged and
exported here."""

"""dedup-plan: the SQL step that plans contact merges from a natural-key index."""

PLAN_VERSION = "1"

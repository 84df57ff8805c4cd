"""Find and run the SQL models in `models/*.sql`.

Each model opens with a grain comment and a `-- materialized: view|table`
line; it becomes a temporary view or table of that name on the index's
connection, so the models never write into the index file.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from functools import cache
from pathlib import Path

import dedup_plan

logger = logging.getLogger(__name__)

MODELS_BEFORE_CLUSTERS = ("key_members", "shared_keys")
MODELS_AFTER_CLUSTERS = (
    "cluster_members",
    "pair_scores",
    "cluster_scores",
    "primaries",
    "consent_targets",
    "fills",
    "review_routes",
)

_MATERIALIZED = re.compile(r"^-- materialized: (view|table)$", re.MULTILINE)


def models_dir() -> Path:
    """Return the folder of the SQL models, installed or editable."""
    package = Path(dedup_plan.__file__).parent
    for candidate in (package / "models", package.parent / "models"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"No SQL models next to {package}; reinstall dedup-plan "
        "(the wheel carries them as dedup_plan/models)."
    )


@cache
def model_sql(name: str) -> str:
    """Return the SQL text of one model."""
    return (models_dir() / f"{name}.sql").read_text()


def run_models(conn: sqlite3.Connection, names: tuple[str, ...]) -> None:
    """Materialise the given models, in order, as temporary views or tables."""
    for name in names:
        started = time.perf_counter()
        run_model(conn, name)
        logger.debug("Model %s built in %.3f s", name, time.perf_counter() - started)


def run_model(conn: sqlite3.Connection, name: str) -> None:
    """Materialise one model, replacing what an earlier call built."""
    sql = model_sql(name)
    kind = _materialization(name, sql)
    conn.execute(f"drop view if exists temp.{name}")
    conn.execute(f"drop table if exists temp.{name}")
    conn.execute(f"create temp {kind} {name} as\n{sql}")


def _materialization(name: str, sql: str) -> str:
    found = _MATERIALIZED.search(sql)
    if not found:
        raise ValueError(f"Model {name}.sql lacks a '-- materialized:' line.")
    return found.group(1)

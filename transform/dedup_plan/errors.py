"""Errors of the SQL step, grouped by what the caller should do.

- `IndexMismatchError`: fatal; the Singer state and the index file do not
  belong together. Run a full refresh or point `index_db` at the right file.
"""

from __future__ import annotations


class DedupPlanError(Exception):
    """Base class of every error the SQL step raises on purpose."""


class IndexMismatchError(DedupPlanError):
    """The incoming STATE names an index that is not the one at `index_db`."""

"""Fixtures of the dedup-plan tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dedup_plan_builders import MapperRunner


@pytest.fixture
def mapper(tmp_path: Path, capsys: pytest.CaptureFixture) -> MapperRunner:
    """A runner whose index lives in a fresh temporary folder."""
    return MapperRunner(index_db=tmp_path / "index" / "index.db", capsys=capsys)

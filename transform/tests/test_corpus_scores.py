"""Plans scored against the emulator generator's ground truth (small corpus).

The 20,000-contact figures come from `scripts/score_corpus.py`; this keeps a
2,000-contact check in the suite so a rule change that costs precision or
recall fails fast.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

testing = pytest.importorskip("podium_emulator.testing")
pytest.importorskip("tap_podium.enrich")

_SCRIPT = Path(__file__).parent.parent / "scripts" / "score_corpus.py"


def _scoring():
    spec = importlib.util.spec_from_file_location("dedup_plan_score_corpus", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_plans_never_merge_two_people_and_find_nine_in_ten_pairs(tmp_path):
    scoring = _scoring()
    corpus = testing.generate_corpus(contacts=2000, seed=3)
    messages = scoring.run_mapper(scoring.singer_text(corpus, "AU"), tmp_path / "i.db")
    figures = scoring.score(corpus, messages)
    assert figures["different_person_merges"] == 0
    assert figures["precision"] == 1.0
    assert figures["recall"] >= 0.9
    assert figures["items_without_reason"] == 0

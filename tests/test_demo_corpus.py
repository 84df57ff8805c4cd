"""`make demo` reuses its corpus only when the folder holds what it generated."""

from __future__ import annotations

import json

import demo
import pytest


@pytest.fixture
def demo_corpus(tmp_path, monkeypatch):
    """A corpus folder the demo generated, with its marker written."""
    folder = tmp_path / "demo-corpus"
    folder.mkdir()
    (folder / "contacts.jsonl").write_text('{"uid": "a"}\n{"uid": "b"}\n')
    monkeypatch.setattr(demo, "CORPUS_DIR", folder)
    monkeypatch.setattr(demo, "CORPUS_MARKER", folder / "params.json")
    demo.CORPUS_MARKER.write_text(json.dumps(demo.corpus_fingerprint()))
    return folder


def rewrite_contacts(folder):
    """Overwrite the contacts as a by-hand `generate --out` would."""
    (folder / "contacts.jsonl").write_text('{"uid": "c"}\n')


def keep_only_parameters(folder):
    """Leave a marker of the old kind: parameters, no digest."""
    marker = {"contacts": demo.CONTACTS, "seed": demo.SEED}
    (folder / "params.json").write_text(json.dumps(marker))


def delete_marker(folder):
    """Remove the marker."""
    (folder / "params.json").unlink()


def leave_alone(folder):
    """Change nothing."""


@pytest.mark.parametrize(
    ("change", "current"),
    [
        pytest.param(leave_alone, True, id="untouched"),
        pytest.param(rewrite_contacts, False, id="contacts-rewritten-by-hand"),
        pytest.param(keep_only_parameters, False, id="marker-without-digest"),
        pytest.param(delete_marker, False, id="marker-missing"),
    ],
)
def test_the_corpus_is_reused_only_when_its_contacts_are_unchanged(
    demo_corpus, change, current
):
    change(demo_corpus)

    assert demo.corpus_is_current() is current

"""The command line: `generate` writes a corpus folder, `serve` explains bad input."""

from __future__ import annotations

import json

import pytest
from podium_emulator.cli import main


def test_generate_writes_the_three_files_of_a_corpus(tmp_path, capsys):
    code = main(["generate", "--contacts", "80", "--seed", "4", "--out", str(tmp_path)])

    assert code == 0
    lines = (tmp_path / "contacts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 80
    assert json.loads(lines[0])["uid"]
    assert (tmp_path / "locations.jsonl").exists()
    assert (tmp_path / "truth.jsonl").exists()
    assert "wrote 80 contacts" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--corpus", "/nonexistent/corpus"], "run `podium-emulator generate"),
        (
            ["generate", "--contacts", "5", "--out", "/tmp/unused"],
            "at least 60 contacts",
        ),
    ],
    ids=["serve-missing-corpus", "generate-too-small"],
)
def test_bad_input_exits_2_with_a_message_that_names_the_fix(argv, message, capsys):
    code = main(argv)

    assert code == 2
    assert message in capsys.readouterr().err

"""The README's benchmark block is generated from results.json, in one place."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import readme_table

BLOCK = f"{readme_table.START}\nnew table\n{readme_table.END}"


@pytest.mark.parametrize(
    ("readme", "expected"),
    [
        pytest.param(
            "# P\n\n## Benchmarks\n\n"
            f"{readme_table.START}\nold\n{readme_table.END}\n\n## Next\n",
            f"# P\n\n## Benchmarks\n\n{BLOCK}\n\n## Next\n",
            id="markers-replaced-in-place",
        ),
        pytest.param(
            "# P\n\n## Benchmarks\n\n`make bench` fills this.\n\n## Next\ntext\n",
            f"# P\n\n## Benchmarks\n\n`make bench` fills this.\n\n{BLOCK}\n\n## Next\n"
            "text\n",
            id="block-added-at-the-end-of-the-section",
        ),
        pytest.param(
            "# P\n\n## Benchmarks\n\nplaceholder\n",
            f"# P\n\n## Benchmarks\n\nplaceholder\n\n{BLOCK}\n",
            id="section-last-in-the-file",
        ),
        pytest.param(
            "# P\n\nintro\n",
            f"# P\n\nintro\n\n## Benchmarks\n\n{BLOCK}\n",
            id="section-created-when-missing",
        ),
    ],
)
def test_the_block_lands_between_markers_or_in_the_section(readme, expected):
    assert readme_table.place(readme, BLOCK) == expected


def test_placing_twice_changes_nothing_more():
    once = readme_table.place("# P\n\n## Benchmarks\n\nx\n", BLOCK)
    assert readme_table.place(once, BLOCK) == once


def test_a_missing_results_file_says_to_run_make_bench(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# P\n")
    code = readme_table.main(
        ["--readme", str(readme), "--results", str(tmp_path / "none.json")]
    )
    assert code == 1
    assert "run `make bench` first" in capsys.readouterr().err
    assert readme.read_text() == "# P\n"

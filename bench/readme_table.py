"""Regenerate the README's benchmark table from bench/results.json.

Replaces the block between `<!-- bench:start -->` and `<!-- bench:end -->` in
README.md. When the markers are missing, the block is added at the end of the
"## Benchmarks" section (or of the file), so that only the marked block is ever
machine-written.

Usage: python bench/readme_table.py [--readme README.md] [--results bench/results.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
REPO_DIR = Path(__file__).resolve().parent.parent


def block(results: dict) -> str:
    """Return the marked block: the machine, the table, the gaps."""
    return "\n".join(
        [
            START,
            "",
            report.machine_line(results),
            "",
            report.table(results),
            "",
            "Gaps and notes:",
            "",
            *(report.gaps(results) or ["- none"]),
            "",
            "Full figures: `bench/results.md` and `bench/results.json` "
            "(regenerate with `make bench`).",
            "",
            END,
        ]
    )


def place(readme: str, new_block: str) -> str:
    """Return the README text with the marked block replaced or added."""
    marked = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if marked.search(readme):
        return marked.sub(lambda _: new_block, readme, count=1)
    section = re.search(r"^## Benchmarks[^\n]*\n", readme, re.MULTILINE)
    if not section:
        return readme.rstrip("\n") + "\n\n## Benchmarks\n\n" + new_block + "\n"
    following = re.compile(r"^## ", re.MULTILINE).search(readme, section.end())
    cut = following.start() if following else len(readme)
    head, tail = readme[:cut].rstrip("\n"), readme[cut:]
    return head + "\n\n" + new_block + "\n" + ("\n" + tail if tail else "")


def main(argv: list[str] | None = None) -> int:
    """Rewrite the README's marked block from the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=REPO_DIR / "README.md")
    parser.add_argument(
        "--results", type=Path, default=REPO_DIR / "bench" / "results.json"
    )
    args = parser.parse_args(argv)
    if not args.results.exists():
        print(f"{args.results} does not exist: run `make bench` first", file=sys.stderr)
        return 1
    results = json.loads(args.results.read_text())
    args.readme.write_text(place(args.readme.read_text(), block(results)))
    print(f"updated the benchmark table in {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

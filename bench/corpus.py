"""Generated corpora and emulators for the benchmarks, built once per run."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import harness

DEFAULT_REGION = "US"  # what the baselines assume for a contact with no location


@functools.cache
def generated(contacts: int, seed: int):
    """Return the emulator's generated corpus (.contacts, .locations, .truth)."""
    from podium_emulator.testing import generate_corpus

    return generate_corpus(contacts=contacts, seed=seed)


def folder(contacts: int, seed: int) -> Path:
    """Return a corpus folder written by `podium-emulator generate` (cached)."""
    path = harness.WORK_DIR / "corpora" / f"{contacts}-{seed}"
    if not (path / "truth.jsonl").exists():
        harness.run_measured(
            f"generate-{contacts}",
            [
                harness.command("podium-emulator"),
                "generate",
                "--contacts",
                str(contacts),
                "--seed",
                str(seed),
                "--out",
                str(path),
            ],
        )
    return path


def tap_config(emulator, path: Path, **extra) -> Path:
    """Write a tap-podium config pointing at the emulator and return its path."""
    config = {
        "api_url": emulator.api_url,
        "oauth_url": emulator.oauth_url,
        **emulator.credentials,
        "requests_per_minute": 1_000_000,
        "default_region": DEFAULT_REGION,
        **extra,
    }
    return write_json(path, config)


def write_json(path: Path, value: dict) -> Path:
    """Write a JSON file (creating its folder) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2))
    return path


def live_contacts(corpus) -> list[dict]:
    """Return the corpus contacts that the list endpoint serves (not deleted)."""
    return [c for c in corpus.contacts if not c.get("deletedAt")]

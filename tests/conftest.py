"""Fixtures of the cross-plugin tests: a corpus, an emulator, and `meltano run`.

Each test gets its own emulator (loaded from one generated corpus), its own
Meltano state backend and its own index, merge state and output folders, all
under the test's tmp_path, so tests never share state with each other or with
a developer's own runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# scripts/ is not a package; the tests score runs with the demo's own module.
sys.path.insert(0, str(ROOT / "scripts"))

E2E_CONTACTS = 800
E2E_SEED = 11
RUN_TIMEOUT_SECONDS = 240
PLUGIN_VENVS = (
    ".meltano/extractors/tap-podium/venv",
    ".meltano/mappers/dedup-planner/venv",
    ".meltano/loaders/target-podium-merge/venv",
)
# Variables that would move a file of the pipeline away from its default.
PATH_VARIABLE_PREFIXES = ("DEDUP_PLAN_", "MELTANO_")
PATH_VARIABLE_SUFFIXES = ("_STATE_DB", "_OUTPUT_DIR")


@dataclass
class Pipeline:
    """`meltano run` in the ci environment, with one test's private files.

    Attributes:
        env: The environment every Meltano command of the test runs with.
        workdir: The test's folder for state, index, merge state and outputs.
        root: The Meltano project's folder, where every command starts.
    """

    env: dict[str, str]
    workdir: Path
    root: Path = field(default=ROOT)

    @property
    def index_db(self) -> Path:
        """Return the SQL step's natural-key index of this test."""
        return self.workdir / "index.db"

    @property
    def output_dir(self) -> Path:
        """Return the applying target's output folder of this test."""
        return self.workdir / "output"

    @property
    def dry_run_output_dir(self) -> Path:
        """Return the dry-run target's output folder of this test."""
        return self.workdir / "output-dry-run"

    def meltano(self, *args: str, timeout: float = RUN_TIMEOUT_SECONDS):
        """Run one Meltano command and return its completed process."""
        return subprocess.run(
            [str(BIN / "meltano"), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def run(self, job: str, *flags: str) -> subprocess.CompletedProcess:
        """Run a job (`dedup`, `dedup-apply`) and fail the test if it fails."""
        result = self.meltano("run", *flags, job)
        assert result.returncode == 0, self.tail(result)
        return result

    @staticmethod
    def tail(result: subprocess.CompletedProcess, lines: int = 60) -> str:
        """Return the last log lines of a command, without per-request noise."""
        output = (result.stdout or "") + (result.stderr or "")
        kept = [line for line in output.splitlines() if "HTTP Request:" not in line]
        return "\n".join(kept[-lines:])

    def start(self, job: str) -> subprocess.Popen:
        """Start a job in the background, for tests that interrupt it."""
        log = (self.workdir / f"{job}.log").open("w")
        return subprocess.Popen(
            [str(BIN / "meltano"), "run", job],
            cwd=self.root,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def emulator_settings(emulator) -> dict[str, str]:
    """Pin every plugin's URL and credentials to the emulator.

    A setting's own variable left in the shell (TAP_PODIUM_API_URL from a real
    run) would otherwise win over the `ci` environment and leave 127.0.0.1.
    """
    values = {
        "API_URL": emulator.api_url,
        "OAUTH_URL": emulator.oauth_url,
        **{key.upper(): value for key, value in emulator.credentials.items()},
    }
    prefixes = ("TAP_PODIUM", "TARGET_PODIUM_MERGE", "TARGET_PODIUM_MERGE__DRY_RUN")
    return {f"{p}_{key}": value for p in prefixes for key, value in values.items()}


@pytest.fixture(scope="session")
def plugins_installed() -> None:
    """Fail fast, with the fix, when `meltano install` has not been run."""
    missing = [path for path in PLUGIN_VENVS if not (ROOT / path).exists()]
    if missing:
        pytest.fail(
            f"Meltano plugins not installed ({missing}); run `make meltano-install`"
        )


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    """A small generated corpus (AU and US locations) written once per session."""
    from podium_emulator.testing import generate_corpus

    folder = tmp_path_factory.mktemp("e2e-corpus")
    generate_corpus(contacts=E2E_CONTACTS, seed=E2E_SEED).write(folder)
    return folder


@pytest.fixture
def emulator(corpus_dir):
    """A fresh emulator holding the session's corpus, with a generous budget."""
    from podium_emulator.testing import run_emulator

    with run_emulator(
        corpus=corpus_dir, rate_limit=100_000, rate_window=1.0, merge_delay=0.02
    ) as emu:
        yield emu


@pytest.fixture
def pipeline(plugins_installed, emulator, tmp_path) -> Pipeline:
    """The Meltano project pointed at this test's emulator and private files."""
    work = tmp_path / "pipeline"
    work.mkdir()
    env = {
        **os.environ,
        "MELTANO_ENVIRONMENT": "ci",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{work / 'meltano.db'}",
        "MELTANO_STATE_BACKEND_URI": (work / "state").as_uri(),
        "PODIUM_EMULATOR_PORT": str(emulator.api_url.split(":")[2].split("/")[0]),
        **emulator_settings(emulator),
        "DEDUP_PLAN_INDEX_DB": str(work / "index.db"),
        "DEDUP_PLAN_MERGE_STATE_DB": str(work / "merge-state.db"),
        "TARGET_PODIUM_MERGE_STATE_DB": str(work / "merge-state.db"),
        "TARGET_PODIUM_MERGE_OUTPUT_DIR": str(work / "output"),
        "TARGET_PODIUM_MERGE_REQUESTS_PER_MINUTE": "60000",
        "TARGET_PODIUM_MERGE_MAX_IN_FLIGHT": "8",
        "TARGET_PODIUM_MERGE__DRY_RUN_STATE_DB": str(work / "dry-run-state.db"),
        "TARGET_PODIUM_MERGE__DRY_RUN_OUTPUT_DIR": str(work / "output-dry-run"),
        "TAP_PODIUM_REQUESTS_PER_MINUTE": "60000",
    }
    return Pipeline(env, work)


@pytest.fixture
def project_copy(plugins_installed, emulator, tmp_path) -> Pipeline:
    """A copy of the Meltano project that runs on its defaults alone.

    Only `meltano.yml` and `plugins/` are copied; the installed plugins are
    linked, not reinstalled. No variable names the index, the merge state, the
    output folder or the state backend, so every file lands where a plain
    `meltano run` puts it, under the copy and never in the real project.
    """
    project = tmp_path / "project"
    (project / "plugins").mkdir(parents=True)
    shutil.copy(ROOT / "meltano.yml", project)
    for definition in (ROOT / "plugins").glob("*.meltano.yml"):
        shutil.copy(definition, project / "plugins")
    for plugin_type in ("extractors", "mappers", "loaders"):
        link = project / ".meltano" / plugin_type
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(ROOT / ".meltano" / plugin_type, target_is_directory=True)
    env = {
        **without_path_variables(os.environ),
        "MELTANO_ENVIRONMENT": "ci",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PODIUM_EMULATOR_PORT": str(emulator.api_url.split(":")[2].split("/")[0]),
        **emulator_settings(emulator),
        "TAP_PODIUM_REQUESTS_PER_MINUTE": "60000",
        "TARGET_PODIUM_MERGE_REQUESTS_PER_MINUTE": "60000",
    }
    return Pipeline(env, project, root=project)


def without_path_variables(environ) -> dict[str, str]:
    """Return the environment minus every variable that moves a pipeline file."""
    return {
        name: value
        for name, value in environ.items()
        if not name.startswith(PATH_VARIABLE_PREFIXES)
        and not name.endswith(PATH_VARIABLE_SUFFIXES)
    }

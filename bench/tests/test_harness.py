"""The harness measures each child process on its own, and bounds it."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness

ALLOCATE = "x = bytearray({mib} * 2**20); x[::4096] = b'1' * len(x[::4096])"


@pytest.mark.skipif(not harness.GNU_TIME.exists(), reason="needs GNU time")
def test_a_small_child_does_not_inherit_the_parents_memory():
    ballast = bytearray(200 * 2**20)
    ballast[::4096] = b"1" * len(ballast[::4096])  # touch it, so it is resident
    run = harness.run_measured(
        "test-small-child", [sys.executable, "-c", ALLOCATE.format(mib=50)]
    )
    assert 50 <= run.peak_rss_mib < 150
    del ballast


def test_cpu_time_is_the_childs_own():
    run = harness.run_measured(
        "test-busy-child", [sys.executable, "-c", "sum(range(3 * 10**7))"]
    )
    assert run.cpu_s > 0.2
    assert run.wall_s >= run.cpu_s * 0.5


def test_an_overrunning_child_is_killed_and_reported():
    with pytest.raises(harness.BenchError, match="test-sleeper exited with -9"):
        harness.run_measured("test-sleeper", ["sleep", "30"], timeout_s=0.5)


def test_a_pipeline_reports_every_process(tmp_path):
    out = tmp_path / "out"
    runs = harness.run_pipeline(
        ["test-writer", "test-counter"],
        [[sys.executable, "-c", "print('x' * 999)"], ["wc", "-c"]],
        stdout_path=out,
    )
    assert [run.name for run in runs] == ["test-writer", "test-counter"]
    assert out.read_text().strip() == "1000"

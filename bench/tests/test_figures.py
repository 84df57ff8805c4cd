"""The figures the bench derives from raw timings and request logs."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness
import plan_bench
import target_bench


def test_summary_reports_median_min_and_max():
    assert harness.summarize([3.0, 1.0, 2.0]) == {
        "median": 2.0,
        "min": 1.0,
        "max": 3.0,
        "runs": [3.0, 1.0, 2.0],
    }


@pytest.mark.parametrize(
    ("seconds", "exponent"),
    [
        pytest.param([1.0, 10.0], 1.0, id="linear"),
        pytest.param([1.0, 100.0], 2.0, id="quadratic"),
        pytest.param([1.0, 5.0], 0.7, id="sublinear-start-up-dominated"),
    ],
)
def test_growth_exponent_is_the_log_of_time_over_the_log_of_size(seconds, exponent):
    sizes = [
        {"contacts": n, "mapper_wall_s": {"median": s}, "mapper_cpu_s": {"median": s}}
        for n, s in zip([10_000, 100_000], seconds, strict=True)
    ]
    step = plan_bench.growth(sizes)[0]
    assert step["cpu_exponent"] == step["wall_exponent"] == exponent


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/v4/contacts/abc123", "GET /v4/contacts/{uid}", id="contact"),
        pytest.param(
            "/v4/contacts/abc/merge", "GET /v4/contacts/{uid}/merge", id="merge"
        ),
        pytest.param(
            "/v4/contacts/abc/tags/t9", "GET /v4/contacts/{uid}/tags/{uid}", id="tag"
        ),
        pytest.param(
            "/v4/contacts/transactional/opt_out",
            "GET /v4/contacts/transactional/opt_out",
            id="consent-kept",
        ),
    ],
)
def test_endpoints_are_grouped_without_uids(path, expected):
    assert target_bench.endpoint({"method": "GET", "path": path}) == expected


def channel(kind, opted_out=None, marketing=()):
    return {
        "type": kind,
        "transactionalOptedOutAt": opted_out,
        "marketingOptedInLocationUids": list(marketing),
    }


@pytest.mark.parametrize(
    ("fill", "target", "channels", "writes"),
    [
        pytest.param({}, {}, [channel("PHONE")], 0, id="nothing-to-do"),
        pytest.param(
            {"name": "A", "emails": ["a@x", "b@x"]},
            {},
            [],
            2,
            id="two-emails-need-two-patches-name-rides-along",
        ),
        pytest.param(
            {"tags": [{"uid": "t"}]},
            {"sms_opt_out": True},
            [channel("PHONE"), channel("PHONE", opted_out="2024")],
            2,
            id="tag-and-one-channel-to-opt-out",
        ),
        pytest.param(
            {},
            {"marketing_opted_in_location_uids": ["L1"]},
            [channel("PHONE", marketing=["L1", "L2", "L3"])],
            2,
            id="one-opt-out-per-location-removed",
        ),
        pytest.param(
            {"phones": ["+61412345678"]},
            {"sms_opt_out": True},
            [],
            2,
            id="a-filled-number-needs-its-opt-out",
        ),
    ],
)
def test_required_writes_count_fill_and_consent(fill, target, channels, writes):
    plan = {
        "primary_uid": "p",
        "duplicate_uids": ["d"],
        "fill": fill,
        "consent_target": target,
    }
    before = {"p": {"channels": channels}}
    assert target_bench.required_writes(plan, before) == writes


def test_the_floor_adds_reads_merge_and_a_verify_only_after_writes():
    plan = {
        "primary_uid": "p",
        "duplicate_uids": ["d1", "d2"],
        "fill": {},
        "consent_target": {},
    }
    assert target_bench.floor_calls(plan, {"p": {"channels": []}}) == (3 + 1, 1)


def size(contacts, wall, cpu, rss):
    """Return one size record as measure_size builds it."""
    spread = {"median": wall, "min": wall, "max": wall, "runs": [wall]}
    return {
        "contacts": contacts,
        "mapper_wall_s": spread,
        "mapper_cpu_s": {**spread, "median": cpu},
        "mapper_peak_rss_mib": rss,
        "baseline_wall_s": spread,
        "baseline_cpu_s": spread,
        "baseline_peak_rss_mib": rss,
        "wall_ratio_to_baseline": 1.0,
        "cpu_ratio_to_baseline": 1.0,
        "plans": {
            "merge_plans": 1,
            "review_items": 0,
            "clusters_only_in_mapper": 0,
            "clusters_only_in_baseline": 0,
            "clusters_with_another_outcome": 0,
        },
    }


@pytest.mark.parametrize(
    ("wall", "rss", "met"),
    [
        pytest.param(59.0, 900.0, True, id="inside-both-goals"),
        pytest.param(61.0, 900.0, False, id="too-slow"),
        pytest.param(50.0, 1100.0, False, id="too-big"),
    ],
)
def test_the_million_goal_is_judged_on_wall_and_peak_memory(wall, rss, met):
    sizes = [size(100_000, wall / 10, wall / 10, rss), size(1_000_000, wall, wall, rss)]
    result = plan_bench.scale_result(sizes, plan_bench.growth(sizes), {"median": 0.5})
    assert result["rows"][1]["met"] is met
    assert result["rows"][0]["met"] is None


def test_smaller_sizes_state_that_the_million_goal_was_not_measured():
    sizes = [size(2_000, 1.0, 1.0, 50.0), size(20_000, 5.0, 5.0, 60.0)]
    result = plan_bench.scale_result(sizes, plan_bench.growth(sizes), {"median": 0.5})
    assert all(row["met"] is None for row in result["rows"][:2])
    assert any("1M goal was not measured" in note for note in result["notes"])


def logged(second, status=200):
    """Return a request-log entry at a second past 2026-01-01T00:00:00Z."""
    return {"time": f"2026-01-01T00:00:{second:02d}Z", "status": status}


def test_budget_counts_late_429s_and_the_steady_rate():
    requests = [logged(0)] * 10 + [logged(1)] * 50 + [logged(2)] * 50
    requests += [logged(3)] * 50 + [logged(4)] * 5 + [logged(1, 429), logged(4, 429)]
    result = target_bench.budget_result(
        requests, harness.ProcessRun("t", 1.0, 1.0, 1.0, 0), merged=1, clusters=1
    )
    assert result["http_429"] == 2
    assert result["http_429_after_first_window"] == 1
    assert result["steady_fraction_of_budget"] == 1.0
    assert result["requests_per_second_by_second"] == [10, 50, 50, 50, 5]
    assert result["goal_met"] is False

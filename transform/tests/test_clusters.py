"""Connected components over shared natural keys (union-find)."""

from __future__ import annotations

from dedup_plan.clusters import build_clusters, cluster_id
from hypothesis import given
from hypothesis import strategies as st


def _members(clusters):
    return sorted((c.kind, tuple(c.uids)) for c in clusters)


def test_contacts_chained_by_keys_form_one_cluster():
    rows = [
        ("k1", "a", False),
        ("k1", "b", False),
        ("k2", "b", False),
        ("k2", "c", False),
    ]
    (cluster,) = build_clusters(rows)
    assert cluster.uids == ["a", "b", "c"]
    assert cluster.keys == {"k1": 2, "k2": 2}


def test_a_shared_line_joins_nobody_and_is_its_own_cluster():
    rows = [
        ("line", "a", True),
        ("line", "b", True),
        ("k1", "b", False),
        ("k1", "c", False),
    ]
    assert _members(build_clusters(rows)) == [
        ("component", ("b", "c")),
        ("shared_line", ("a", "b")),
    ]


def test_a_shared_line_inside_one_cluster_adds_no_cluster():
    rows = [
        ("line", "a", True),
        ("line", "b", True),
        ("k1", "a", False),
        ("k1", "b", False),
    ]
    assert _members(build_clusters(rows)) == [("component", ("a", "b"))]


def test_the_natural_key_is_the_one_most_members_hold():
    rows = [("k2", u, False) for u in "abc"] + [("k1", "c", False), ("k1", "d", False)]
    (cluster,) = build_clusters(rows)
    assert cluster.natural_key == "k2"


def test_cluster_id_depends_only_on_the_member_set():
    assert cluster_id(["b", "a"]) == cluster_id(["a", "b"]) != cluster_id(["a", "c"])


edges = st.lists(
    st.tuples(st.sampled_from("klmn"), st.sampled_from("abcdefgh")), max_size=25
)


@given(edges)
def test_clusters_do_not_depend_on_row_order(rows):
    holders = {(key, uid, False) for key, uid in rows}
    by_key = {}
    for key, uid, _ in holders:
        by_key.setdefault(key, set()).add(uid)
    shared = [(k, u, s) for k, u, s in holders if len(by_key[k]) >= 2]
    forward = _members(build_clusters(sorted(shared)))
    backward = _members(build_clusters(sorted(shared, reverse=True)))
    assert forward == backward
    members = [uid for _, uids in forward for uid in uids]
    assert len(members) == len(set(members))

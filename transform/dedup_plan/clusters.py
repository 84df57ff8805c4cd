"""Clusters: connected components of contacts over shared natural keys.

Written in Python rather than SQL: a recursive CTE over a million keys walks
every path, while a union-find touches each edge once. Shared lines (business
lines and keys held by too many contacts) join nobody; each becomes its own
cluster, which always goes to review.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property


@dataclass
class Cluster:
    """Contacts that belong together, and the keys that tie them."""

    uids: list[str]
    keys: dict[str, int] = field(default_factory=dict)
    kind: str = "component"

    @cached_property
    def cluster_id(self) -> str:
        """Return the stable hash of the sorted member uids."""
        return cluster_id(self.uids)

    @cached_property
    def natural_key(self) -> str:
        """Return the key most members hold (lowest key on a tie)."""
        return min(self.keys, key=lambda key: (-self.keys[key], key))


def cluster_id(uids: Iterable[str]) -> str:
    """Return the stable id of a cluster: a hash of its sorted member uids."""
    joined = "\n".join(sorted(uids))
    return hashlib.sha256(joined.encode()).hexdigest()[:32]


class UnionFind:
    """Disjoint sets of contact uids, with path halving."""

    def __init__(self) -> None:
        """Start with no sets."""
        self.parent: dict[str, str] = {}

    def find(self, uid: str) -> str:
        """Return the representative of the set holding `uid`."""
        parent = self.parent.setdefault(uid, uid)
        while parent != uid:
            grandparent = self.parent[parent]
            self.parent[uid] = grandparent
            uid, parent = grandparent, self.parent[grandparent]
        return uid

    def union(self, first: str, second: str) -> None:
        """Merge the sets holding `first` and `second`."""
        root_first, root_second = self.find(first), self.find(second)
        if root_first != root_second:
            # The smaller uid leads, so the result does not depend on order.
            low, high = sorted((root_first, root_second))
            self.parent[high] = low


def build_clusters(
    holders: Iterable[tuple[str, str, bool]],
) -> list[Cluster]:
    """Group contacts into clusters from (natural key, uid, is shared line) rows.

    Args:
        holders: One row per shared natural key and live contact holding it.

    Returns:
        Components over ordinary keys, then one cluster per shared line.
    """
    by_key: dict[str, list[str]] = defaultdict(list)
    shared_lines: set[str] = set()
    for natural_key, uid, is_shared_line in holders:
        by_key[natural_key].append(uid)
        if is_shared_line:
            shared_lines.add(natural_key)
    components = _components(
        {key: uids for key, uids in by_key.items() if key not in shared_lines}
    )
    lines = [_shared_line_cluster(key, by_key[key]) for key in sorted(shared_lines)]
    return components + _without_repeats(lines, components)


def _components(by_key: dict[str, list[str]]) -> list[Cluster]:
    sets = UnionFind()
    for uids in by_key.values():
        for uid in uids[1:]:
            sets.union(uids[0], uid)
    clusters: dict[str, Cluster] = {}
    for natural_key, uids in by_key.items():
        cluster = clusters.setdefault(sets.find(uids[0]), Cluster(uids=[]))
        cluster.keys[natural_key] = len(uids)
    for uid in sets.parent:
        clusters[sets.find(uid)].uids.append(uid)
    return [_sorted(cluster) for cluster in clusters.values()]


def _shared_line_cluster(natural_key: str, uids: list[str]) -> Cluster:
    return Cluster(uids=sorted(uids), keys={natural_key: len(uids)}, kind="shared_line")


def _without_repeats(lines: list[Cluster], components: list[Cluster]) -> list[Cluster]:
    # A shared line whose holders already form one cluster on other keys adds
    # no new question, and would reuse that cluster's id.
    home = {uid: index for index, c in enumerate(components) for uid in c.uids}
    return [line for line in lines if not _inside_one(line.uids, home)]


def _inside_one(uids: list[str], home: dict[str, int]) -> bool:
    homes = {home.get(uid, -1 - n) for n, uid in enumerate(uids)}
    return len(homes) == 1


def _sorted(cluster: Cluster) -> Cluster:
    cluster.uids.sort()
    return cluster

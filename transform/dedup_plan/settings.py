"""Settings of the SQL step, read once from the mapper's config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dedup_plan.names import DEFAULT_PLACEHOLDER_NAMES, placeholder_set

# Relative to the working directory, which is the project root under `meltano
# run`; the merge state is the one target-podium-merge writes by default.
DEFAULT_INDEX_DB = ".meltano/dedup/index.db"
DEFAULT_MERGE_STATE_DB = ".meltano/dedup/merge-state.db"
_FLOAT_SETTINGS = frozenset(
    {
        "weight_shared_key",
        "weight_same_name",
        "weight_same_email",
        "weight_shared_tag",
        "merge_threshold",
    }
)


@dataclass(frozen=True)
class PlanSettings:
    """Weights, thresholds and policies that decide how clusters are routed."""

    index_db: str = DEFAULT_INDEX_DB
    merge_state_db: str | None = DEFAULT_MERGE_STATE_DB
    weight_shared_key: float = 0.60
    weight_same_name: float = 0.20
    weight_same_email: float = 0.15
    weight_shared_tag: float = 0.05
    merge_threshold: float = 0.80
    allow_cross_location: bool = False
    max_contacts_per_key: int = 5
    placeholder_names: tuple[str, ...] = field(default=DEFAULT_PLACEHOLDER_NAMES)

    @classmethod
    def from_config(cls, config: Mapping) -> PlanSettings:
        """Build settings from a plugin config, defaults for what is absent."""
        given = {
            name: config[name]
            for name in cls.__dataclass_fields__
            if config.get(name) is not None
        }
        if "placeholder_names" in given:
            given["placeholder_names"] = tuple(given["placeholder_names"])
        # singer-sdk reads JSON numbers as Decimal, which SQLite cannot bind.
        for name in _FLOAT_SETTINGS & given.keys():
            given[name] = float(given[name])
        if "max_contacts_per_key" in given:
            given["max_contacts_per_key"] = int(given["max_contacts_per_key"])
        return cls(**given)

    @property
    def placeholders(self) -> frozenset[str]:
        """Return the placeholder names in normalised form."""
        return placeholder_set(self.placeholder_names)

    def sql_row(self, run_id: int) -> dict:
        """Return the one row of the `run_settings` table the models read."""
        return {
            "run_id": run_id,
            "weight_shared_key": self.weight_shared_key,
            "weight_same_name": self.weight_same_name,
            "weight_same_email": self.weight_same_email,
            "weight_shared_tag": self.weight_shared_tag,
            "merge_threshold": self.merge_threshold,
            "allow_cross_location": int(self.allow_cross_location),
            "max_contacts_per_key": self.max_contacts_per_key,
        }

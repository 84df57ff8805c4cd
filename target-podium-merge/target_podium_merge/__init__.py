"""target-podium-merge: a Singer target that merges duplicate Podium contacts."""

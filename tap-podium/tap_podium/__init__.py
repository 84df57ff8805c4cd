"""tap-podium: a Singer tap for Podium contacts and locations."""

__version__ = "0.1.0"

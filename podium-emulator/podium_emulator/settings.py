"""Server settings: the `serve` flags, also changeable through the control surface."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

DEFAULT_SCOPES = ("read_contacts", "write_contacts", "read_locations")
# "updated": (updatedAt, uid); "shuffled": a pseudo-random order per cursor walk.
LIST_ORDERS = ("updated", "shuffled")


@dataclass
class Settings:
    """Every knob of the emulator, with the defaults of `podium-emulator serve`."""

    rate_limit: int = 300
    rate_window: float = 60.0
    random_5xx_rate: float = 0.0
    latency_ms: float = 0.0
    merge_delay: float = 0.2
    write_delay: float = 0.0
    token_lifetime: float = 36000.0
    cursor_lifetime: float = 600.0
    client_id: str = "demo-client"
    client_secret: str = "demo-secret"
    refresh_token: str = "demo-refresh-token"
    scopes: tuple[str, ...] = field(default=DEFAULT_SCOPES)
    cross_location_merge: str = "block"
    list_order: str = "updated"
    seed: int = 0

    def update(self, changes: dict) -> None:
        """Apply changes from the control surface.

        Raises:
            ValueError: for an unknown setting name or a value of the wrong type.
        """
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}; known: {sorted(known)}")
            setattr(self, name, _coerce(getattr(self, name), value, name))

    def public(self) -> dict:
        """The settings without the client secret, for the control surface."""
        shown = asdict(self)
        shown.pop("client_secret")
        shown["scopes"] = list(self.scopes)
        return shown


def _coerce(current: object, value: object, name: str) -> object:
    """Convert a JSON value to the type of the current setting."""
    if isinstance(current, tuple):
        items = value.split() if isinstance(value, str) else value
        return tuple(str(item) for item in items)
    if name == "cross_location_merge" and value not in ("allow", "block"):
        raise ValueError("cross_location_merge must be 'allow' or 'block'")
    if name == "list_order" and value not in LIST_ORDERS:
        raise ValueError(f"list_order must be one of {LIST_ORDERS}, not {value!r}")
    try:
        return type(current)(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"setting {name!r} cannot take {value!r}") from error

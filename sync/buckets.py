"""The pull buckets and their names: what a device downloads, defined once for the engine and the server."""

from __future__ import annotations

from sync.store import DeviceRef

#: Form versions devices may fill in (open and closing); others are tombstoned.
FORMS = "forms"
#: Districts and communes.
PLACES = "places"


def assignments_bucket(user_id) -> str:
    """Return the bucket of an enumerator's assignments."""
    return f"assignments:{user_id}"


def settings_bucket(device_id) -> str:
    """Return the bucket of a device's settings."""
    return f"settings:{device_id}"


def buckets_for(device: DeviceRef) -> list[str]:
    """Return the buckets a device pulls: forms, places, its user's assignments, its settings."""
    names = [FORMS, PLACES]
    if device.user_id is not None:
        names.append(assignments_bucket(device.user_id))
    names.append(settings_bucket(device.id))
    return names

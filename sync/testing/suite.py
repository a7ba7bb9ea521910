"""``StoreContract``: the one suite every Store must pass (memory, SQLite, PostgreSQL).

Subclass it in a ``Test*`` class and provide the ``store`` fixture; it receives the ``forms``
fixture (a ``FakeForms`` catalogue of real form versions). An in-memory store takes it as its form
lookup; a store that reads forms from its database overrides ``forms`` with a ``FakeForms`` subclass
whose ``publish`` also writes the version there (see ``tests/server/contract_forms.py``). Override
``add_blob``, ``make_device``, ``backup`` and ``restore`` when the store needs rows for those (the
SQL store does). Stores must be usable from several threads (the SQL store: one session per
thread), as two tests push concurrently.
"""

from __future__ import annotations

import uuid

import pytest

from sync.store import DeviceRef
from sync.store import Store
from sync.testing.contract_engine import EngineScenarios
from sync.testing.contract_pull import PullScenarios
from sync.testing.contract_store import StoreMethods
from sync.testing.fakes import FakeForms


class StoreContract(StoreMethods, EngineScenarios, PullScenarios):
    """The suite every Store passes; subclass with a ``Test`` name and provide ``store``."""

    @pytest.fixture
    def forms(self) -> FakeForms:
        """The form catalogue the store must consult."""
        return FakeForms.standard()

    @pytest.fixture
    def store(self, forms) -> Store:
        """An empty store using ``forms``; every subclass provides this."""
        raise NotImplementedError("subclasses of StoreContract provide the store fixture")

    def make_device(self, store: Store, user_id: int | None = 7) -> DeviceRef:
        """Return a device the store knows (override when devices need rows).

        Devices of one user are peers (one enumerator's phones), as the server's device lookup makes
        them: each may correct what the earlier ones created.
        """
        made = self.__dict__.setdefault("_devices_by_user", {}).setdefault((id(store), user_id), [])
        device = DeviceRef(id=str(uuid.uuid4()), user_id=user_id,
                           peers=frozenset(made) if user_id is not None else frozenset())
        made.append(device.id)
        return device

    def add_blob(self, store: Store, sha256: str) -> None:
        """Make a completely uploaded blob known to the store."""
        store.blobs.add(sha256)

    def backup(self, store: Store):
        """Return a backup of the store's database (skip when the store cannot)."""
        pytest.skip("this store provides no backup hook")

    def restore(self, store: Store, backup) -> Store:
        """Restore ``backup`` with a new epoch; return the store to use afterwards."""
        pytest.skip("this store provides no restore hook")

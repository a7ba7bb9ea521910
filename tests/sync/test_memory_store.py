"""The Store contract on the in-memory Store."""

import pytest

from sync.memory import MemoryStore
from sync.testing.suite import StoreContract


class TestMemoryStore(StoreContract):
    """MemoryStore passes the contract every Store passes."""

    @pytest.fixture
    def store(self, forms):
        return MemoryStore(forms=forms)

    def backup(self, store):
        return store.backup()

    def restore(self, store, backup):
        store.restore(backup)
        return store

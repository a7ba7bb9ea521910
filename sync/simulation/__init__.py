"""Simulated fleets of devices syncing over bad links (used by tests and the demo)."""

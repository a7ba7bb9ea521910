"""Accounts: staff users, devices' owners, passwords and tokens at rest."""

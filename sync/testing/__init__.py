"""Test support for Store implementers: the contract suite, fakes and op builders."""

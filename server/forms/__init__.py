"""Forms on the server: the registry of imported versions."""

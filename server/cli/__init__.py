"""Command-line tools, ``flask --app server <command>``."""

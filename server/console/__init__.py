"""The coordinator's console: services behind the ``/console/`` pages, the JSON API and the CLI.

Every service takes a :class:`~server.console.scope.Scope`: admins see everything, a coordinator
only the districts granted to them (``coordinator_districts``).
"""

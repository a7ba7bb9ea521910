"""The offline web form at ``/collect/``: ODK Web Forms in a PWA that syncs through Ferry's protocol.

The front end lives in ``app/`` (built with npm into ``build/`` by ``make collect``); ``views`` serves it.
"""

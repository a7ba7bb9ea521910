"""The Flask server: the only package that knows Flask and the database."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server import api
from server import problems
from server import web
from server.api import access
from server.cli import commands
from server.collect import views as collect
from server.config import defaults
from server.config import ensure_secret_key
from server.extensions import csrf
from server.extensions import db
from server.extensions import limiter
from server.extensions import migrate
from server.models import database
from server.models.types import json_text
from server.sync import runtime as sync_runtime
from server.web import console as web_console


def create_app(config: dict | None = None) -> Flask:
    """Create and configure a Ferry app: defaults, then the instance folder, then FERRY_* variables.

    ``config``, when given (tests), is applied last and wins over everything else.
    """
    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("FERRY_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("FERRY")
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = database.normalise_url(app.config["DATABASE_URL"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"json_serializer": json_text,
                                               **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = ensure_secret_key(app.instance_path)

    app.request_class = problems.FerryRequest
    if app.config["PROXY_HOPS"]:
        # behind N trusted proxies the client's address is in X-Forwarded-For: the sign-in limits count
        # per client, not per proxy, and redirects keep the https scheme
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    db.init_app(app)
    migrate.init_app(app, db, directory=database.MIGRATIONS_DIR, render_as_batch=True,
                     compare_type=True, render_item=database.render_item)
    csrf.init_app(app)
    limiter.init_app(app)
    database.init_app(app)
    problems.init_app(app)
    access.init_app(app)
    commands.init_app(app)
    sync_runtime.init_app(app)
    api.init_app(app)
    web.init_app(app)
    app.register_blueprint(collect.bp)
    web_console.init_app(app)
    return app

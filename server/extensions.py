"""Flask extensions, created unbound here and bound to each app in ``create_app``."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so Alembic can alter them later on every backend (SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay readable after commit: a request ends its read transaction right after
# authentication (see auth.access) and keeps using the caller's loaded attributes.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
# Checks only where a view asks for it (the pages' form posts): WTF_CSRF_CHECK_DEFAULT is off.
csrf = CSRFProtect()
# Failed sign-ins are limited (server/api/sign_in_limits.py); no other view is. Counts live in memory,
# per process, unless RATELIMIT_STORAGE_URI names a shared store (e.g. redis://) for several workers.
limiter = Limiter(key_func=get_remote_address)

"""What a console user may see: every district (admins), or the districts granted to a coordinator."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.places import UNIT_LIST_2019
from server.models import Assignment
from server.models import Commune
from server.models import CoordinatorDistrict
from server.models import Device
from server.models import District
from server.models import UnitList
from server.models import User
from server.models import audit
from server.models.errors import ServerError

CONSOLE_ROLES = ("admin", "coordinator")


@dataclass(frozen=True)
class Scope:
    """The console's caller and the district codes they may see (None: all of them)."""

    user: User
    districts: frozenset[str] | None

    @property
    def is_admin(self) -> bool:
        return self.districts is None

    def sees_district(self, code: str | None) -> bool:
        """Whether a row in district ``code`` is visible (rows without a district: admins only)."""
        return self.districts is None or (code is not None and code in self.districts)


def scope_of(session: Session, user: User) -> Scope:
    """Return the scope of a console user; other roles have none."""
    if user.role == "admin":
        return Scope(user, None)
    if user.role != "coordinator":
        raise ServerError("forbidden", "The console is for coordinators and administrators.")
    codes = session.scalars(select(District.code).join(CoordinatorDistrict)
                            .where(CoordinatorDistrict.user_id == user.id))
    return Scope(user, frozenset(codes))


def _districts_by_code(session: Session, codes: list[str]) -> dict[str, District]:
    return {d.code: d for d in session.scalars(
        select(District).join(UnitList).where(UnitList.code == UNIT_LIST_2019, District.code.in_(codes)))}


def grant_districts(session: Session, username: str, codes: list[str], *,
                    actor: User | None = None) -> list[str]:
    """Make ``codes`` the whole set of districts a coordinator looks after; return them sorted."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise ServerError("not-found", f"No user named {username!r}.")
    if user.role != "coordinator":
        raise ServerError("conflict", f"{username!r} is a {user.role}; only coordinators have districts.")
    found = _districts_by_code(session, codes)
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ServerError("validation-failed", "Unknown districts: " + ", ".join(unknown) + ".",
                          errors=[{"pointer": "/districts", "detail": f"no district {c!r}"} for c in unknown])
    before = sorted(session.scalars(select(District.code).join(CoordinatorDistrict)
                                    .where(CoordinatorDistrict.user_id == user.id)))
    session.execute(delete(CoordinatorDistrict).where(CoordinatorDistrict.user_id == user.id))
    for district in found.values():
        session.add(CoordinatorDistrict(user_id=user.id, district_id=district.id))
    after = sorted(found)
    if before != after:
        audit(session, "role.districts", "user", user.id, user_id=actor.id if actor else None,
              cli=actor is None, before=before, after=after)
    session.flush()
    return after


def enumerator_districts(session: Session) -> dict[int, set[str]]:
    """Each enumerator's districts, from the communes assigned to them in any round."""
    rows = session.execute(select(Assignment.user_id, District.code)
                           .join(Commune, Assignment.commune_id == Commune.id)
                           .join(District, Commune.district_id == District.id)).all()
    found: dict[int, set[str]] = {}
    for user_id, code in rows:
        found.setdefault(user_id, set()).add(code)
    return found


def visible_enumerators(session: Session, scope: Scope) -> list[User]:
    """Enumerators the scope may manage: all (admins), else those assigned in the coordinator's districts
    or not assigned anywhere yet (so a coordinator can give a new enumerator their first communes)."""
    enumerators = list(session.scalars(select(User).where(User.role == "enumerator").order_by(User.username)))
    if scope.is_admin:
        return enumerators
    places = enumerator_districts(session)
    return [u for u in enumerators if not places.get(u.id) or places[u.id] & scope.districts]


def check_enumerator(session: Session, scope: Scope, username: str) -> User:
    """Return an enumerator the scope may manage, or raise ``not-found`` (others' staff are not shown)."""
    for user in visible_enumerators(session, scope):
        if user.username == username:
            return user
    raise ServerError("not-found", f"No enumerator {username!r} in your districts.")


def device_visible(session: Session, scope: Scope, device: Device) -> bool:
    """Whether a device's enumerator is one the scope may manage."""
    return any(u.id == device.user_id for u in visible_enumerators(session, scope))

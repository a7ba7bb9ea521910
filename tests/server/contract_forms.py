"""The Store contract's form catalogue kept in the database, where the SQL store reads form versions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from server.models.forms import Form
from server.models.forms import FormVersion
from sync.testing.fakes import FakeForms


class SqlForms(FakeForms):
    """``FakeForms`` whose every publish is also a stored form version (definition, hash and state)."""

    def __init__(self, engine: Engine):
        super().__init__()
        self.engine = engine

    def publish(self, form_id: str, version: str, state: str = "open") -> None:
        """Add a version, or change its state, here and in the database."""
        super().publish(form_id, version, state)
        form = self.versions[(form_id, version)].form
        with Session(self.engine) as session, session.begin():
            parent = session.scalar(select(Form).where(Form.form_id == form_id))
            if parent is None:
                parent = Form(form_id=form_id, title=form.title)
                session.add(parent)
                session.flush()
            row = session.scalar(select(FormVersion).where(FormVersion.form_id == parent.id,
                                                           FormVersion.version == version))
            if row is None:
                row = FormVersion(form=parent, version=version, content_hash=form.content_hash,
                                  definition=form.to_json(), source=b"", source_filename="contract.json")
                session.add(row)
            row.state = state

    @classmethod
    def standard_in(cls, engine: Engine) -> SqlForms:
        """Return a catalogue with the contract's versions, stored."""
        forms = cls(engine)
        forms.publish_standard()
        return forms

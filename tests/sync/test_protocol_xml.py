"""Parsing of operations that carry the ODK instance XML ("xml") instead of answers ("ans")."""

import uuid

from sync.protocol import Operation

INSTANCE = '<data id="awareness" version="2017.1"><round>2019</round></data>'


def xml_op(**extra):
    return {"id": str(uuid.uuid4()), "kind": "create", "sub": str(uuid.uuid4()), "form": "awareness",
            "ver": "2017.1", "xml": INSTANCE, **extra}


def test_parsing_takes_xml_instead_of_answers():
    op = Operation.from_wire(xml_op())
    assert op.problems == () and op.answers is None and op.instance_xml == INSTANCE
    both = Operation.from_wire(xml_op(ans={"round": "2019"}))
    assert [p["pointer"] for p in both.problems] == ["/xml"]
    neither = Operation.from_wire({**xml_op(), "xml": None})
    assert [p["pointer"] for p in neither.problems] == ["/ans"]
    assert [p["pointer"] for p in Operation.from_wire(xml_op(xml="")).problems] == ["/xml"]
    # A delete carries neither; an xml key on it is ignored, as "ans" is.
    delete = Operation.from_wire({"id": "d1", "kind": "delete", "sub": str(uuid.uuid4()), "base": "x",
                                  "xml": "<data/>"})
    assert delete.problems == () and delete.instance_xml is None

"""The XML documents OpenRosa clients read: the form list, a manifest, and the OpenRosaResponse message."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import SubElement
from xml.etree.ElementTree import tostring

FORM_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"


@dataclass(frozen=True)
class FormListEntry:
    """One ``<xform>`` of the form list."""

    form_id: str
    name: str
    version: str
    md5: str
    download_url: str
    manifest_url: str | None = None


@dataclass(frozen=True)
class MediaFile:
    """One ``<mediaFile>`` of a manifest."""

    filename: str
    md5: str
    download_url: str


def _xml(root: Element) -> bytes:
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    return declaration + tostring(root, encoding="utf-8", xml_declaration=False)


def form_list(entries: list[FormListEntry], *, verbose: bool = False) -> bytes:
    """``<xforms>``: formID, name, version, hash, downloadUrl and manifestUrl of each form."""
    root = Element("xforms", xmlns=FORM_LIST_NS)
    for entry in entries:
        xform = SubElement(root, "xform")
        SubElement(xform, "formID").text = entry.form_id
        SubElement(xform, "name").text = entry.name or entry.form_id
        SubElement(xform, "version").text = entry.version
        SubElement(xform, "hash").text = f"md5:{entry.md5}"
        if verbose:
            SubElement(xform, "descriptionText").text = entry.name or entry.form_id
        SubElement(xform, "downloadUrl").text = entry.download_url
        if entry.manifest_url:
            SubElement(xform, "manifestUrl").text = entry.manifest_url
    return _xml(root)


def manifest(files: list[MediaFile]) -> bytes:
    """``<manifest>``: filename, hash and downloadUrl of each file the form reads."""
    root = Element("manifest", xmlns=MANIFEST_NS)
    for media in files:
        item = SubElement(root, "mediaFile")
        SubElement(item, "filename").text = media.filename
        SubElement(item, "hash").text = f"md5:{media.md5}"
        SubElement(item, "downloadUrl").text = media.download_url
    return _xml(root)


def response(message: str, *, nature: str = "submit_success") -> bytes:
    """``<OpenRosaResponse>`` with one message, which Collect shows to the user."""
    root = Element("OpenRosaResponse", xmlns=RESPONSE_NS, items="0")
    SubElement(root, "message", nature=nature).text = message
    return _xml(root)

"""Form definitions: XLSForm in, the form model, answer validation, scoring keys, built-in forms."""

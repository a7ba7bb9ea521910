"""OpenRosa for ODK Collect, KoboCollect and Enketo: app-user URLs, form list, XForms, media, submissions."""

"""The officer's desk: the kiosk's dossier drafts (a JSON draft store of pages and reviewed fields).

Holds state only; the steps that use it are in :mod:`service.usecases`.
"""

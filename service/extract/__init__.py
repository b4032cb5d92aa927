"""Extraction stage (TT 01/2023 Art. 9): document type and metadata fields from OCR lines,
the ID-card QR, and the officer's review corrections.

May import: ``service.domain``, ``service.ocr`` (its output types), ``service.configbase``,
``service.config``, ``service.paths``; no store, signing, sync or UI.
"""

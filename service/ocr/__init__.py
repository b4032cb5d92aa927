"""Vietnamese page OCR on ONNX Runtime.

Public API: :func:`service.ocr.engine.get_engine` → :class:`service.ocr.engine.OcrEngine`
(``read_page``, ``read_file``, ``read_prepared``, ``warm_up``); output types in
:mod:`service.ocr.types`; accuracy measures in :mod:`service.ocr.metrics`.

May import: ``service.domain``, ``service.imaging``, ``service.configbase``; no store, no UI.
"""

"""Training of the small CTC line recognizer (``python -m service.ocr.train``).

Needs PyTorch (``pip install -r requirements-train.txt``), which neither the service nor its tests
use: only this package imports it. See models/README.md for the recipe and measured results.
"""

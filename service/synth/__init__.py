"""Test-document renderer: Vietnamese administrative pages (Nghị định 30/2020 layout) with ground truth.

Public API: :func:`service.synth.render.render_document` and
:func:`service.synth.samples.sample_documents`.

May import: ``service.domain`` (+ Pillow, reportlab); used by tests, benchmarks and the demo.
"""

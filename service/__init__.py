"""The digitization core: stages, use cases, configuration and the ``sohoa`` CLI.

Sub-packages are rooms with their own import rules (each ``__init__`` says what it may import;
``docs/ARCHITECTURE.md`` §4 lists them and ``tests/test_architecture.py`` checks them).
"""

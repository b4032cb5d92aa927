"""Pure rules and values: identifiers, codes, result codes, dates, number and symbol, categories,
the Art. 9 metadata types and their validation, the error hierarchy.

May import: the standard library and pure libraries (pydantic); nothing else of ours; no I/O
(no ``sqlite3``, ``socket``, ``subprocess``, ``paho``). Checked by ``tests/test_architecture.py``.
"""

"""The procedure catalogue (thủ tục hành chính): procedures and their components, parsed from CSV/JSON.

Not the document-type catalogue of extraction (:mod:`service.extract.catalog`).
"""

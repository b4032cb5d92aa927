"""Signature records of the signing room, kept by the store (``Store.add_signature`` and friends).

The table and its queries live in :mod:`service.store.signatures`; these are the signing room's
names for them.
"""

from __future__ import annotations

from service.store.signatures import SignatureRecord
from service.store.store import Store

__all__ = ["SignatureRecord", "record", "signatures_of", "untimestamped"]


def record(store: Store, rec: SignatureRecord) -> None:
    """Append one signature record."""
    store.add_signature(rec)


def signatures_of(store: Store, document_id: str) -> list[SignatureRecord]:
    """Signatures recorded for a document, oldest first."""
    return store.signatures_of(document_id)


def untimestamped(store: Store) -> list[SignatureRecord]:
    """Signatures made offline (PAdES B-B) that the province may augment with a timestamp."""
    return store.untimestamped_signatures()

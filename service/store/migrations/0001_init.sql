-- 0001 (spine): dossiers, documents, pages, fields, outbox, hash-chained audit.
-- Times are UTC ISO-8601 strings. Files (PDFs, page images) live in the content-addressed
-- file store and are named here by their SHA-256.

CREATE TABLE dossiers (
    id          TEXT PRIMARY KEY,              -- uuid4
    owner_id    TEXT,                          -- owner identifier, may be empty (Art. 10 cl. 2)
    created_at  TEXT NOT NULL
);

CREATE TABLE documents (
    id                  TEXT PRIMARY KEY,      -- uuid4
    result_code         TEXT NOT NULL UNIQUE,  -- Art. 10 digitization result code
    dossier_id          TEXT NOT NULL REFERENCES dossiers(id),
    document_type_code  TEXT NOT NULL,
    owner_id            TEXT,
    metadata_json       TEXT NOT NULL,         -- service.domain.fields.Metadata.to_json()
    pdf_sha256          TEXT NOT NULL,         -- current PDF in the file store
    page_count          INTEGER NOT NULL CHECK (page_count >= 1),
    declared_pages      INTEGER,
    mismatch_reason     TEXT,
    state               TEXT NOT NULL DEFAULT 'stored' CHECK (state IN ('stored', 'signed')),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX documents_dossier ON documents(dossier_id);

CREATE TABLE pages (
    document_id     TEXT NOT NULL REFERENCES documents(id),
    page_no         INTEGER NOT NULL CHECK (page_no >= 1),   -- capture order, 1-based
    sha256          TEXT NOT NULL,                           -- image bytes in the file store
    media_type      TEXT NOT NULL,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    dpi             REAL NOT NULL,
    colour          TEXT NOT NULL CHECK (colour IN ('colour', 'grey', 'bilevel')),
    side            TEXT NOT NULL CHECK (side IN ('front', 'back')),
    blank           INTEGER NOT NULL CHECK (blank IN (0, 1)),
    sticky_note_of  INTEGER,                                 -- page_no this image re-captures with its note
    PRIMARY KEY (document_id, page_no)
);

CREATE TABLE fields (
    document_id  TEXT NOT NULL REFERENCES documents(id),
    name         TEXT NOT NULL,
    value        TEXT NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('ocr', 'manual', 'reuse', 'qr')),
    confidence   REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (document_id, name)
);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id      TEXT NOT NULL REFERENCES documents(id),
    pdf_sha256       TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'sending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX outbox_pending ON outbox(state, next_attempt_at);
CREATE INDEX outbox_document ON outbox(document_id);

-- Append-only, hash-chained: row_hash = sha256(canonical JSON of the row's content + prev_hash).
CREATE TABLE audit (
    seq           INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    subject       TEXT,
    details_json  TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    row_hash      TEXT NOT NULL UNIQUE
);
-- The newest chain link, kept in the same transaction as each append so removing the last
-- audit rows is detected as well.
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seq       INTEGER NOT NULL,
    row_hash  TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;

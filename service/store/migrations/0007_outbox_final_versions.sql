-- 0007 (spine/sync): one version out. Adds the outbox state 'superseded' (a newer version of the
-- document replaced a row before it was sent). SQLite cannot alter a CHECK constraint, so the table
-- is rebuilt with the same columns and values (row digests bound by the audit chain are unchanged).
-- The data fix that closes today's stale rows (never-attempted older versions, older versions the
-- gateway refused with signature-missing) runs in Python after these statements, in the same
-- transaction, with one audit row per document: service.store.outbox.close_stale_rows.
CREATE TABLE outbox_0007 (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id      TEXT NOT NULL REFERENCES documents(id),
    pdf_sha256       TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'sending', 'delivered', 'failed', 'superseded')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT
);
INSERT INTO outbox_0007(id, document_id, pdf_sha256, state, attempts, next_attempt_at, last_error, created_at,
                        delivered_at)
    SELECT id, document_id, pdf_sha256, state, attempts, next_attempt_at, last_error, created_at, delivered_at
    FROM outbox ORDER BY id;
DROP TABLE outbox;
ALTER TABLE outbox_0007 RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox(state, next_attempt_at);
CREATE INDEX outbox_document ON outbox(document_id);

-- 0002 sync: transfer progress of the sync worker (owned by the sync room).
-- Stands alone (no foreign keys into 0001) so it applies from any earlier version; every
-- statement is idempotent.

-- One row per outbox row being transferred. ``next_seq`` counts the chunks the broker
-- acknowledged in order, so a reboot resumes a half-sent file; the gateway's "need" list
-- stays authoritative (it says which chunks it really holds).
CREATE TABLE IF NOT EXISTS sync_progress (
    outbox_id      INTEGER PRIMARY KEY,
    document_id    TEXT    NOT NULL,
    pdf_sha256     TEXT    NOT NULL,
    chunk_size     INTEGER NOT NULL,
    chunk_count    INTEGER NOT NULL,
    next_seq       INTEGER NOT NULL DEFAULT 0,
    manifest_sent  INTEGER NOT NULL DEFAULT 0,
    chunks_sent    INTEGER NOT NULL DEFAULT 0,
    updated_at     REAL    NOT NULL
);

-- Application acks received: a version is delivered only once it has a row here.
CREATE TABLE IF NOT EXISTS sync_delivery (
    document_id    TEXT NOT NULL,
    pdf_sha256     TEXT NOT NULL,
    receipt        TEXT,
    delivered_at   REAL NOT NULL,
    released_at    REAL,
    PRIMARY KEY (document_id, pdf_sha256)
);

-- Counters and last-seen times for `sohoa sync status` and telemetry (no personal data).
CREATE TABLE IF NOT EXISTS sync_state (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

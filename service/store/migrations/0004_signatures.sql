-- 0004 signing: one row per signature made on this box (owned by the signing room).
-- `timestamped = 0` marks PAdES B-B signatures made offline: the province can later add a
-- document timestamp / validation data (B-T / B-LT) and set the flag. Idempotent statements.
-- pdf_sha256_after: the file-store hash of the PDF this signature produced.

CREATE TABLE IF NOT EXISTS signatures (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id       TEXT    NOT NULL REFERENCES documents(id),
    role              TEXT    NOT NULL CHECK (role IN ('officer', 'agency')),
    signer            TEXT    NOT NULL,
    signing_time      TEXT    NOT NULL,              -- ISO 8601, +07:00
    timestamped       INTEGER NOT NULL CHECK (timestamped IN (0, 1)),
    pdf_sha256_after  TEXT    NOT NULL,
    field_name        TEXT    NOT NULL,
    created_at        TEXT    NOT NULL               -- UTC ISO 8601
);
CREATE INDEX IF NOT EXISTS signatures_document ON signatures(document_id);
CREATE INDEX IF NOT EXISTS signatures_untimestamped ON signatures(timestamped) WHERE timestamped = 0;

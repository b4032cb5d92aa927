-- 0009 (reuse first, TT 01/2023 Art. 25.3): the province's answers to reuse look-ups, kept so the desk
-- can offer an owner's earlier papers while the link is down and say how old the answer is. One row
-- per owner and document type (the province is asked by type), keyed by the owner's SHA-256.
-- A cache, not a record: rows are replaced on every answer and dropped after sync.reuse_cache_max_age_h.
CREATE TABLE reuse_cache (
    owner_digest   TEXT NOT NULL,
    document_type  TEXT NOT NULL,
    answered_at    TEXT NOT NULL,
    hits_json      TEXT NOT NULL,
    PRIMARY KEY (owner_digest, document_type)
);
CREATE INDEX reuse_cache_age ON reuse_cache(answered_at);

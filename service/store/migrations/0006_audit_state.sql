-- 0006 (spine): the audit chain binds the rows it describes.
-- state_json: the row digests of the document (the subject) that changed with this audit row and
-- the hash of the document's whole state afterwards (see service/store/state.py); it is part of
-- the row's chain hash. NULL for rows about no document and for rows written before 0006.
ALTER TABLE audit ADD COLUMN state_json TEXT;
CREATE INDEX IF NOT EXISTS audit_subject ON audit(subject, seq);

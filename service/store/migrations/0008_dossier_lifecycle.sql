-- 0008 (dossier lifecycle): a dossier carries its procedure, owner, status and who opened it; every
-- status change is a row of dossier_history (and an audit row). Documents say whether they are a
-- component of the dossier or its result. New columns are nullable so row digests of dossiers and
-- documents stored before 0008 stay what the audit chain recorded (service/store/state.py); a
-- dossier's status is left out of the document digests (it changes after the documents are stored)
-- and checked against dossier_history and the audit chain instead.
ALTER TABLE dossiers ADD COLUMN procedure_code TEXT;
ALTER TABLE dossiers ADD COLUMN status TEXT CHECK (status IS NULL OR status IN
    ('received', 'in_progress', 'additional_papers_requested', 'result_ready', 'returned', 'withdrawn', 'refused'));
ALTER TABLE dossiers ADD COLUMN created_by TEXT;
CREATE INDEX dossiers_status ON dossiers(status);
CREATE INDEX dossiers_owner ON dossiers(owner_id);

CREATE TABLE dossier_history (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_id       TEXT NOT NULL REFERENCES dossiers(id),
    status           TEXT NOT NULL,
    at               TEXT NOT NULL,
    actor            TEXT NOT NULL,
    reason           TEXT,
    components_json  TEXT NOT NULL DEFAULT '[]',
    audit_seq        INTEGER NOT NULL            -- the audit row that recorded this change
);
CREATE INDEX dossier_history_dossier ON dossier_history(dossier_id, id);

ALTER TABLE documents ADD COLUMN kind TEXT CHECK (kind IS NULL OR kind IN ('component', 'result'));
ALTER TABLE documents ADD COLUMN component_code TEXT;

-- 0010 metrics: operational measurements a Prometheus scrape of another process must see
-- (`sohoa metrics`, the kiosk's /metrics). No personal data: a metric name, a short label
-- (e.g. a signing failure's reason) and a number. Idempotent statements.

CREATE TABLE IF NOT EXISTS metric_events (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name   TEXT    NOT NULL CHECK (name IN ('ocr_seconds', 'signing_failure')),
    label  TEXT    NOT NULL DEFAULT '' CHECK (length(label) <= 64),
    value  REAL    NOT NULL,
    at     TEXT    NOT NULL                            -- UTC ISO 8601
);
CREATE INDEX IF NOT EXISTS metric_events_name ON metric_events(name);

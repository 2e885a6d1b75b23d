-- Audit entries. seq is the rowid: assigned at insert, strictly increasing,
-- never reused (rows are never deleted). Timestamps are Unix nanoseconds in
-- UTC; severity is its rank (debug 0 ... error 4); empty ids are ''.
CREATE TABLE entries (
    seq          INTEGER PRIMARY KEY,
    event_id     TEXT    NOT NULL,
    source_type  TEXT    NOT NULL,
    ts           INTEGER NOT NULL,
    event_type   TEXT    NOT NULL,
    severity     INTEGER NOT NULL,
    message      TEXT    NOT NULL,
    execution_id TEXT    NOT NULL,
    node_id      TEXT    NOT NULL,
    details      TEXT    NOT NULL,
    error        TEXT    NOT NULL,
    duration_ms  REAL
);

-- Idempotency: an event is recorded once.
CREATE UNIQUE INDEX entries_event_id ON entries (event_id);
-- One execution's entries in seq order; also lists executions.
CREATE INDEX entries_execution ON entries (execution_id, seq);
-- One node's entries in seq order.
CREATE INDEX entries_node ON entries (node_id, seq);
-- Entries of some audit types in seq order.
CREATE INDEX entries_type ON entries (event_type, seq);
-- Time ranges.
CREATE INDEX entries_ts ON entries (ts);

-- Audit entries: append-only, one row per recorded event.
--
-- seq is assigned by Append from entries_seq under the append lock (see the
-- package documentation), so seq order equals commit order. The timestamp
-- is kept exactly: ts holds it to the microsecond (PostgreSQL's precision)
-- and ts_nanos the nanoseconds below the microsecond. Identifiers use the
-- "C" collation: they compare and sort byte-wise, like Go strings.
CREATE SEQUENCE entries_seq AS bigint;

CREATE TABLE entries (
    seq          bigint                NOT NULL,
    event_id     text COLLATE "C"      NOT NULL,
    source_type  text COLLATE "C"      NOT NULL,
    ts           timestamptz           NOT NULL,
    ts_nanos     smallint              NOT NULL DEFAULT 0 CHECK (ts_nanos BETWEEN 0 AND 999),
    event_type   text COLLATE "C"      NOT NULL,
    severity     text COLLATE "C"      NOT NULL,
    message      text                  NOT NULL,
    execution_id text COLLATE "C",
    node_id      text COLLATE "C",
    details      json,
    error        text,
    duration_ms  double precision,
    recorded_at  timestamptz           NOT NULL DEFAULT now(),
    CONSTRAINT entries_pkey PRIMARY KEY (seq),
    CONSTRAINT entries_event_id_key UNIQUE (event_id)
);

-- One execution's entries in seq order: Query by execution, Summary, Executions.
CREATE INDEX entries_execution_seq ON entries (execution_id, seq);

-- One summary row per execution, kept by Append in the same transaction as
-- the entries (see audit.ExecutionDelta), so that listing executions newest
-- first, filtered by status, workflow, time and text, reads a small index
-- instead of every entry. Timestamps are Unix nanoseconds; workflow_id,
-- ended_ns, end_type and paused are NULL until an entry sets them.
CREATE TABLE executions (
    execution_id   TEXT    NOT NULL PRIMARY KEY,
    workflow_id    TEXT,
    started_ns     INTEGER NOT NULL,
    ended_ns       INTEGER,
    end_type       TEXT,
    paused         INTEGER,
    total          INTEGER NOT NULL,
    nodes_executed INTEGER NOT NULL,
    nodes_failed   INTEGER NOT NULL,
    checkpoints    INTEGER NOT NULL,
    rollbacks      INTEGER NOT NULL,
    errors         INTEGER NOT NULL,
    first_seq      INTEGER NOT NULL,
    last_seq       INTEGER NOT NULL,
    status         TEXT GENERATED ALWAYS AS (CASE
        WHEN end_type IN ('execution_completed', 'ray_batch_test_completed') THEN 'completed'
        WHEN end_type IN ('execution_failed', 'ray_batch_test_failed') THEN 'failed'
        WHEN end_type IN ('execution_cancelled', 'ray_batch_test_cancelled') THEN 'cancelled'
        WHEN paused = 1 THEN 'paused'
        ELSE 'running' END) VIRTUAL
) WITHOUT ROWID;

-- Newest first, and time ranges.
CREATE INDEX executions_started ON executions (started_ns, execution_id);
-- Newest first within a status, and within a workflow.
CREATE INDEX executions_status ON executions (status, started_ns, execution_id);
CREATE INDEX executions_workflow ON executions (workflow_id, started_ns, execution_id);

-- The executions recorded before this migration.
INSERT INTO executions (execution_id, workflow_id, started_ns, ended_ns, end_type, paused, total,
    nodes_executed, nodes_failed, checkpoints, rollbacks, errors, first_seq, last_seq)
SELECT x.execution_id,
    (SELECT json_extract(w.details, '$.workflow_id') FROM entries w WHERE w.execution_id = x.execution_id
        AND w.event_type IN ('execution_started', 'ray_batch_test_started')
        AND json_type(w.details, '$.workflow_id') = 'text' AND json_extract(w.details, '$.workflow_id') <> ''
        ORDER BY w.seq LIMIT 1),
    (SELECT f.ts FROM entries f WHERE f.execution_id = x.execution_id ORDER BY f.seq LIMIT 1),
    (SELECT z.ts FROM entries z WHERE z.execution_id = x.execution_id AND z.event_type IN ('execution_completed',
        'execution_failed', 'execution_cancelled', 'ray_batch_test_completed', 'ray_batch_test_failed',
        'ray_batch_test_cancelled') ORDER BY z.seq DESC LIMIT 1),
    (SELECT z.event_type FROM entries z WHERE z.execution_id = x.execution_id AND z.event_type IN ('execution_completed',
        'execution_failed', 'execution_cancelled', 'ray_batch_test_completed', 'ray_batch_test_failed',
        'ray_batch_test_cancelled') ORDER BY z.seq DESC LIMIT 1),
    (SELECT p.event_type = 'execution_paused' FROM entries p WHERE p.execution_id = x.execution_id
        AND p.event_type IN ('execution_paused', 'execution_resumed') ORDER BY p.seq DESC LIMIT 1),
    x.total, x.nodes_executed, x.nodes_failed, x.checkpoints, x.rollbacks, x.errors, x.first_seq, x.last_seq
FROM (
    SELECT execution_id, count(*) AS total,
        sum(event_type = 'node_completed') AS nodes_executed, sum(event_type = 'node_failed') AS nodes_failed,
        sum(event_type = 'checkpoint_created') AS checkpoints, sum(event_type = 'rollback_performed') AS rollbacks,
        sum(severity = 4) AS errors, min(seq) AS first_seq, max(seq) AS last_seq
    FROM entries WHERE execution_id <> '' GROUP BY execution_id
) x;

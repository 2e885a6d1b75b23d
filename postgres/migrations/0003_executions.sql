-- One summary row per execution, kept by Append in the same transaction as
-- the entries (see audit.ExecutionDelta), so that listing executions newest
-- first, filtered by status, workflow, time and text, reads a small index
-- instead of every entry. Times are Unix nanoseconds; workflow_id,
-- ended_ns, end_type and paused are NULL until an entry sets them.
CREATE TABLE executions (
    execution_id   text COLLATE "C" NOT NULL,
    workflow_id    text COLLATE "C",
    started_ns     bigint           NOT NULL,
    ended_ns       bigint,
    end_type       text COLLATE "C",
    paused         boolean,
    total          bigint           NOT NULL,
    nodes_executed bigint           NOT NULL,
    nodes_failed   bigint           NOT NULL,
    checkpoints    bigint           NOT NULL,
    rollbacks      bigint           NOT NULL,
    errors         bigint           NOT NULL,
    first_seq      bigint           NOT NULL,
    last_seq       bigint           NOT NULL,
    status         text COLLATE "C" GENERATED ALWAYS AS (CASE
        WHEN end_type IN ('execution_completed', 'ray_batch_test_completed') THEN 'completed'
        WHEN end_type IN ('execution_failed', 'ray_batch_test_failed') THEN 'failed'
        WHEN end_type IN ('execution_cancelled', 'ray_batch_test_cancelled') THEN 'cancelled'
        WHEN paused THEN 'paused'
        ELSE 'running' END) STORED,
    CONSTRAINT executions_pkey PRIMARY KEY (execution_id)
);

-- Newest first, and time ranges.
CREATE INDEX executions_started ON executions (started_ns, execution_id);
-- Newest first within a status, and within a workflow.
CREATE INDEX executions_status ON executions (status, started_ns, execution_id);
CREATE INDEX executions_workflow ON executions (workflow_id, started_ns, execution_id);

-- The executions recorded before this migration.
INSERT INTO executions (execution_id, workflow_id, started_ns, ended_ns, end_type, paused, total,
    nodes_executed, nodes_failed, checkpoints, rollbacks, errors, first_seq, last_seq)
SELECT x.execution_id,
    (SELECT w.details ->> 'workflow_id' FROM entries w WHERE w.execution_id = x.execution_id
        AND w.event_type IN ('execution_started', 'ray_batch_test_started')
        AND json_typeof(w.details -> 'workflow_id') = 'string' AND w.details ->> 'workflow_id' <> ''
        ORDER BY w.seq LIMIT 1),
    (SELECT (extract(epoch FROM f.ts) * 1000000)::bigint * 1000 + f.ts_nanos FROM entries f
        WHERE f.execution_id = x.execution_id ORDER BY f.seq LIMIT 1),
    z.ended_ns, z.event_type,
    (SELECT p.event_type = 'execution_paused' FROM entries p WHERE p.execution_id = x.execution_id
        AND p.event_type IN ('execution_paused', 'execution_resumed') ORDER BY p.seq DESC LIMIT 1),
    x.total, x.nodes_executed, x.nodes_failed, x.checkpoints, x.rollbacks, x.errors, x.first_seq, x.last_seq
FROM (
    SELECT execution_id, count(*) AS total,
        count(*) FILTER (WHERE event_type = 'node_completed') AS nodes_executed,
        count(*) FILTER (WHERE event_type = 'node_failed') AS nodes_failed,
        count(*) FILTER (WHERE event_type = 'checkpoint_created') AS checkpoints,
        count(*) FILTER (WHERE event_type = 'rollback_performed') AS rollbacks,
        count(*) FILTER (WHERE severity = 'error') AS errors,
        min(seq) AS first_seq, max(seq) AS last_seq
    FROM entries WHERE execution_id IS NOT NULL AND execution_id <> '' GROUP BY execution_id
) x
LEFT JOIN LATERAL (
    SELECT (extract(epoch FROM t.ts) * 1000000)::bigint * 1000 + t.ts_nanos AS ended_ns, t.event_type
    FROM entries t WHERE t.execution_id = x.execution_id AND t.event_type IN ('execution_completed',
        'execution_failed', 'execution_cancelled', 'ray_batch_test_completed', 'ray_batch_test_failed',
        'ray_batch_test_cancelled') ORDER BY t.seq DESC LIMIT 1
) z ON true;

-- The ledger's own lookups by entry type: run seals (package ledger: the
-- Sealer checks which runs have a seal, VerifyRun and FindSeal find a
-- run's seal) and run ends (the seal catch-up). Without an index these
-- scanned every entry after a seq, filtering by type; this partial index
-- holds only those entries, so it costs nothing for the others.
CREATE INDEX IF NOT EXISTS entries_ledger_runs ON entries (seq)
    WHERE event_type IN ('run_sealed', 'execution_completed', 'execution_failed', 'execution_cancelled',
                         'ray_batch_test_completed', 'ray_batch_test_failed', 'ray_batch_test_cancelled');

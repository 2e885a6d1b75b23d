-- The seal catch-up's mark (package ledger, Sealer.CatchUp): every run end
-- at or before seq has been sealed, or found sealed. A recording command
-- that opens the store seals the runs that ended after it without a seal
-- (their process stopped before sealing them) and raises it.
--
-- A log that has seals starts at its first seal: runs that ended later are
-- checked once. A log without any starts at its end: the runs recorded
-- before sealing existed stay unsealed, as they were.
CREATE TABLE ledger_seal_mark (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq bigint  NOT NULL
);

INSERT INTO ledger_seal_mark (one, seq) VALUES (true, coalesce(
    (SELECT min(seq) FROM entries WHERE event_type = 'run_sealed'),
    (SELECT max(seq) FROM entries),
    0));

-- Seq runs (package ledger, SeqRun): where the seqs of the tree's leaves
-- jump. The leaves from idx on have the seqs first_seq, first_seq+1, ...
-- up to the next run; without a run, seq 1 is leaf 0. They turn a seq into
-- its leaf index with one read of the primary key (an inclusion proof by
-- seq), instead of counting the entries before it. Append writes a run
-- with the tiles whenever a leaf's seq is not the last one's plus one.
--
-- Filled here from the entries the tree covers: within a run, seq minus
-- the entry's position is constant; the first remaining entry is leaf
-- ledger_prune.leaves.
CREATE TABLE ledger_seq_runs (
    first_seq INTEGER PRIMARY KEY,
    idx       INTEGER NOT NULL
);

INSERT INTO ledger_seq_runs (first_seq, idx)
SELECT min(seq), min(seq) - d - 1 + coalesce((SELECT leaves FROM ledger_prune), 0)
FROM (SELECT seq, seq - row_number() OVER (ORDER BY seq) AS d
      FROM entries
      WHERE seq <= coalesce((SELECT last_seq FROM ledger_head), 0))
GROUP BY d;

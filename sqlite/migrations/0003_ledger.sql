-- The ledger (package ledger): an RFC 6962 Merkle tree over the entries in
-- seq order, written by Append in the same transaction as the entries.
--
-- ledger_tiles holds the tree's hashes in tiles of 256 (tile level 0: the
-- leaf hashes; level L: the nodes 8*L levels up); the last tile of a level
-- is rewritten as it grows. ledger_head is the tree after the last append:
-- its size (leaves), the last leaf's seq, the root and the compact range
-- from which the writer carries on.
CREATE TABLE ledger_tiles (
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hashes BLOB    NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TABLE ledger_head (
    one      INTEGER PRIMARY KEY CHECK (one = 1),
    size     INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    root     BLOB    NOT NULL,
    range    BLOB    NOT NULL
);

-- Signed checkpoints (C2SP tlog-checkpoint notes), in the order made; each
-- one's size is larger than every earlier one's.
CREATE TABLE ledger_checkpoints (
    id         INTEGER PRIMARY KEY,
    size       INTEGER NOT NULL,
    note       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Redacted entries: the digest of the payload removed, which their leaf
-- keeps committing to.
CREATE TABLE ledger_redactions (
    seq     INTEGER PRIMARY KEY,
    payload BLOB    NOT NULL
);

-- What prunes removed: the first `leaves` entries, up to seq last_seq.
CREATE TABLE ledger_prune (
    one      INTEGER PRIMARY KEY CHECK (one = 1),
    leaves   INTEGER NOT NULL,
    last_seq INTEGER NOT NULL
);

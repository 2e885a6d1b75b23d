-- The ledger (package ledger): an RFC 6962 Merkle tree over the entries in
-- seq order, written by Append in the same transaction as the entries,
-- under the append lock.
--
-- ledger_tiles holds the tree's hashes in tiles of 256 (tile level 0: the
-- leaf hashes; level L: the nodes 8*L levels up); the last tile of a level
-- is rewritten as it grows. ledger_head is the tree after the last append:
-- its size (leaves), the last leaf's seq, the root and the compact range
-- from which a writer carries on.
CREATE TABLE ledger_tiles (
    level  integer NOT NULL,
    idx    bigint  NOT NULL,
    hashes bytea   NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE ledger_head (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    size     bigint  NOT NULL,
    last_seq bigint  NOT NULL,
    root     bytea   NOT NULL,
    range    bytea   NOT NULL
);

-- Signed checkpoints (C2SP tlog-checkpoint notes), in the order made; each
-- one's size is larger than every earlier one's.
CREATE TABLE ledger_checkpoints (
    id         bigserial   PRIMARY KEY,
    size       bigint      NOT NULL,
    note       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Redacted entries: the digest of the payload removed, which their leaf
-- keeps committing to.
CREATE TABLE ledger_redactions (
    seq     bigint PRIMARY KEY,
    payload bytea  NOT NULL
);

-- What prunes removed: the first `leaves` entries, up to seq last_seq.
CREATE TABLE ledger_prune (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    leaves   bigint  NOT NULL,
    last_seq bigint  NOT NULL
);

// Package ledger makes the audit log tamper-evident: an RFC 6962 Merkle
// tree over the log's entries in seq order, signed checkpoints, proofs,
// and a verifier that names the first bad seq and the kind of tampering.
//
// # The tree
//
// Every store (SQLite, PostgreSQL) writes, in the same transaction as the
// entries, their leaf hashes and the tree's hashes, in tiles of 256 (tile
// level 0 holds the leaf hashes; tile level L the nodes 8·L levels up),
// and the tree's head: its size, the last leaf's seq, its root and its
// compact range. The writer keeps the compact range and the last tile of
// every level in memory (Builder), restores them from the head when it
// opens, and reloads them when another writer moved the head. Seqs are
// leaves in seq order but may skip values (a rolled-back PostgreSQL
// append); where they do, the store also writes a SeqRun (the leaf index
// from which seqs go on one by one), so that a seq becomes its leaf index
// with one indexed read (Store.LeafIndex, inclusion proofs by seq). The tree
// and the proofs are github.com/transparency-dev/merkle's (compact ranges,
// proof node lists, verifiers); RFC 6962's hashes are SHA-256.
//
// # The leaf: canonical encoding version 1
//
// An entry's leaf hash is SHA-256(0x00 ‖ LeafData), LeafData being
//
//	0x01                          the encoding version (EncodingVersion)
//	u64(seq)                      8 bytes, big-endian
//	str(event_id) str(source_type)
//	i64(timestamp)                Unix nanoseconds, big-endian
//	str(event_type) str(severity) str(execution_id) str(node_id)
//	0x00 | 0x01 ‖ u64(bits)       duration_ms absent, or its IEEE 754 bits (-0 written as 0)
//	payload digest                32 bytes
//
// with str(s) a 4-byte big-endian length followed by the bytes of s, and
// the payload digest SHA-256(0x70 ‖ str(message) ‖ str(details) ‖
// str(error)), details without surrounding white space ({} when empty).
// So leaf = H(header fields ‖ H(payload)): a redaction replaces the
// payload by its digest (kept in the store) and every leaf, root and proof
// stays valid. A later encoding gets another version byte.
//
// # Checkpoints
//
// A Checkpointer signs the tree's head as a C2SP tlog-checkpoint (origin,
// size, base64 root) in a C2SP signed note with an Ed25519 key
// (golang.org/x/mod/sumdb/note; parsed with github.com/transparency-dev/formats),
// at most every N entries or T, stores it and hands it to witnesses outside
// the database (FileWitness, URLWitness, a JetStream subject). Before
// signing it checks a consistency proof from the last checkpoint: it never
// signs a checkpoint inconsistent with one signed before. The private key
// never goes into the database.
//
// # Verification
//
// Verify recomputes every entry's leaf and every root, checks every
// checkpoint's signature and root, their order (a smaller size after a
// larger one is a rolled-back checkpoint), the witnessed checkpoints, the
// head, and the redaction and prune entries. The stored leaf hashes lead it
// to the exact entry and the kind: changed, deleted, inserted, duplicated,
// reordered, truncated, forged or rolled-back checkpoint. What it trusts
// is the signatures: someone who rewrites an entry and every stored hash
// with it is still caught by the first signed checkpoint after the entry,
// but then named only to within that checkpoint's span. Tamper evidence is
// as good as the checkpoints held outside the database (a witness, an
// auditor's copy): someone who can rewrite the database and delete the
// checkpoints after an entry is caught only by a witness. Timestamps are
// what the producers said, not trusted time.
//
// # Runs, redaction, retention
//
// A Sealer records, when a run ends, a run_sealed entry with the run's
// entry count, the Merkle root of its leaves and the checkpoint that
// covers them; VerifyRun proves the run complete and lists the run's
// entries the seal does not cover (late: recorded after the seal, or
// between its checkpoint and the seal). The Sealer keeps the leaves (seq
// and leaf hash, 40 bytes) of the entries it sees committed of the runs
// not sealed yet, as the store computed them when it hands them out
// (LeafAppender, Sealer.CommittedLeaves), within
// SealerOptions.MaxTrackedBytes, and computes a run's seal from them when
// the store holds no other entry of the run up to the seal's checkpoint
// (Store.RunCounts); else it reads the run's entries back. A service
// records the seals through its recorder (SealerOptions.Append), so that
// its live streams carry them like any other entry. A run whose end was
// recorded by a process that stopped before sealing it is sealed by the
// next Sealer.CatchUp (a recording command calls it when it opens its
// store): it reads only the run ends after the store's seal mark, a page
// at a time, and raises the mark. A run with a seal recorded after its end
// is never sealed again, whichever process sealed it. Stores' Redact and
// Prune keep the proofs and record themselves as entries (entry_redacted,
// log_pruned).
//
// # Bundles
//
// WriteBundle writes the entries, leaf hashes, checkpoints and proofs to
// one file that VerifyBundle checks offline with only the public key.
package ledger

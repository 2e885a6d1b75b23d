package ledger

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/wtbdev/wtb/audit"
)

// The audit types of the entries the ledger records about the log itself.
const (
	// TypeRunSealed is a run's seal: see SealRecord.
	TypeRunSealed = audit.TypeRunSealed
	// TypeEntryRedacted records a redaction: see RedactionRecord.
	TypeEntryRedacted = audit.TypeEntryRedacted
	// TypeLogPruned records a prune: see PruneRecord.
	TypeLogPruned = audit.TypeLogPruned
)

// SourceType is the SourceType of the entries the ledger records.
const SourceType = "wtb.ledger"

// RedactionRecord is the Details of an entry_redacted entry.
type RedactionRecord struct {
	// Seq is the redacted entry.
	Seq int64 `json:"seq"`
	// Reason is why, as the operator gave it.
	Reason string `json:"reason"`
	// PayloadSHA256 is the hex digest of the removed payload (PayloadDigest),
	// which the entry's leaf keeps committing to.
	PayloadSHA256 string `json:"payload_sha256"`
	// Fields names the fields removed.
	Fields []string `json:"fields"`
}

// PruneRecord is the Details of a log_pruned entry.
type PruneRecord struct {
	Pruned
	// Before is the date given: every pruned entry's timestamp is before it.
	Before time.Time `json:"before"`
	// FirstSeq is the first seq this prune removed; Removed how many
	// entries it removed.
	FirstSeq int64 `json:"first_seq"`
	Removed  int64 `json:"removed"`
}

// SealRecord is the Details of a run_sealed entry: the run's entries up to
// LastSeq, in seq order, are exactly Entries entries whose leaves have the
// Merkle root RunRoot (RFC 6962, over the run's leaf hashes alone), and
// the checkpoint of size CheckpointSize (root CheckpointRoot) covers them
// all.
type SealRecord struct {
	ExecutionID    string `json:"execution_id"`
	Entries        int64  `json:"entries"`
	FirstSeq       int64  `json:"first_seq"`
	LastSeq        int64  `json:"last_seq"`
	RunRoot        string `json:"run_root"`
	CheckpointSize uint64 `json:"checkpoint_size"`
	CheckpointRoot string `json:"checkpoint_root"`
	// Outcome is the audit type of the entry that ended the run.
	Outcome audit.Type `json:"outcome"`
}

// newRecordEntry makes an entry of the ledger's own with details d.
func newRecordEntry(typ audit.Type, sev audit.Severity, msg, execution string, d any) (audit.Entry, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return audit.Entry{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return audit.Entry{}, err
	}
	return audit.Entry{
		EventID:     id.String(),
		SourceType:  SourceType,
		Timestamp:   time.Now().UTC(),
		Type:        typ,
		Severity:    sev,
		Message:     msg,
		ExecutionID: execution,
		Details:     b,
	}, nil
}

// RedactionEntry returns the entry recording the redaction of e (the entry
// as recorded, payload still present) for reason.
func RedactionEntry(e *audit.Entry, reason string) (audit.Entry, error) {
	d := PayloadDigest(e)
	return newRecordEntry(TypeEntryRedacted, audit.SeverityWarning,
		"Entry "+strconv.FormatInt(e.Seq, 10)+" redacted: "+reason, "",
		RedactionRecord{Seq: e.Seq, Reason: reason, PayloadSHA256: hex.EncodeToString(d[:]), Fields: []string{"message", "details", "error"}})
}

// PruneEntry returns the entry recording a prune.
func PruneEntry(r PruneRecord) (audit.Entry, error) {
	return newRecordEntry(TypeLogPruned, audit.SeverityWarning,
		fmt.Sprintf("Pruned %d entries before %s (the log now starts after seq %d)", r.Removed, r.Before.UTC().Format(time.RFC3339), r.LastSeq), "", r)
}

// SealEntry returns the seal entry of a run. It belongs to no execution
// (the run is in its details): a seal is a record about the run, counted
// in no run's summary.
func SealEntry(r SealRecord) (audit.Entry, error) {
	return newRecordEntry(TypeRunSealed, audit.SeverityInfo,
		fmt.Sprintf("Run %s sealed: %d entries up to seq %d", r.ExecutionID, r.Entries, r.LastSeq), "", r)
}

// Redacted returns e with its payload removed, as a store keeps a redacted
// entry: empty message and error, details {"redacted": true}.
func Redacted(e audit.Entry) audit.Entry {
	e.Message, e.Error = "", ""
	e.Details = json.RawMessage(`{"redacted":true}`)
	return e
}

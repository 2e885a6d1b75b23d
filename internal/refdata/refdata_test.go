package refdata

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSamplesMatchShared checks that the embedded copies are the reference's
// samples, where the shared folder beside the repository is present.
func TestSamplesMatchShared(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "reference", "samples")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no reference samples at %s: nothing to compare the embedded copies with", dir)
	}
	for name, embedded := range map[string][]byte{"events.jsonl": Events, "audit-entries.jsonl": AuditEntries} {
		shared, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(shared, embedded) {
			t.Errorf("%s differs from %s: copy it again into internal/refdata", name, filepath.Join(dir, name))
		}
	}
	if n := bytes.Count(Events, []byte("\n")); n != 164 {
		t.Errorf("events.jsonl has %d lines, want 164", n)
	}
}

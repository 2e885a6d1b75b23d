package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wtbdev/wtb/jetstream/jstest"
	"github.com/wtbdev/wtb/ledger"
)

// executionOf returns the id of the only execution of db.
func executionOf(t *testing.T, db string) string {
	t.Helper()
	out := mustRun(t, "", "--db", db, "audit", "list").stdout
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		t.Fatalf("audit list: %q", out)
	}
	return strings.Fields(lines[1])[0]
}

// TestVerifyCommand records a demo run, then checks verify's exit statuses
// (0 verified, 1 tampering found, 2 could not verify), the run's seal, a
// redaction and a prune, and the bundles verified offline with the public
// key alone.
func TestVerifyCommand(t *testing.T) {
	db := tempDB(t)
	mustRun(t, "", "--db", db, "demo")
	for _, f := range []string{db + ".key", db + ".pub"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("the demo made no key pair beside the database: %v", err)
		}
	}
	if fi, _ := os.Stat(db + ".key"); fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key mode %v, want 0600", fi.Mode().Perm())
	}
	r := mustRun(t, "", "--db", db, "audit", "verify")
	if !strings.HasPrefix(r.stdout, "verified: ") {
		t.Fatalf("verify: %q", r.stdout)
	}
	exec := executionOf(t, db)
	r = mustRun(t, "", "--db", db, "audit", "verify", "--execution", exec)
	if !strings.Contains(r.stdout, "run "+exec+": complete:") {
		t.Fatalf("verify --execution: %q", r.stdout)
	}

	dir := t.TempDir()
	bundle := filepath.Join(dir, "run.bundle")
	mustRun(t, "", "--db", db, "audit", "export", "--bundle", bundle, "--execution", exec)
	all := filepath.Join(dir, "all.bundle")
	mustRun(t, "", "--db", db, "audit", "export", "--bundle", all)
	for _, b := range []string{bundle, all} {
		// Offline: a database that does not exist, the public key alone.
		mustRun(t, "", "--db", filepath.Join(dir, "none.db"), "audit", "verify", "--bundle", b, "--pubkey", db+".pub")
	}
	if r := run(t, "", "audit", "verify", "--bundle", all); r.code != 2 {
		t.Fatalf("verify --bundle without --pubkey: exit %d", r.code)
	}

	r = mustRun(t, "", "--db", db, "audit", "redact", "--seq", "5", "--reason", "personal data")
	if !strings.Contains(r.stdout, "redacted seq 5") {
		t.Fatalf("redact: %q", r.stdout)
	}
	r = mustRun(t, "", "--db", db, "audit", "verify")
	if !strings.Contains(r.stdout, "redacted: seq 5") {
		t.Fatalf("verify after redact: %q", r.stdout)
	}
	if r := run(t, "", "--db", db, "audit", "redact", "--seq", "5"); r.code != 2 {
		t.Fatalf("redact without --reason: exit %d", r.code)
	}

	// Tampering: exit 1, naming the seq.
	tampered := filepath.Join(dir, "t.db")
	copyFile(t, db, tampered)
	copyFile(t, db+".pub", tampered+".pub")
	sqlExec(t, tampered, "UPDATE entries SET node_id = node_id || 'x' WHERE seq = 12")
	r = run(t, "", "--db", tampered, "audit", "verify")
	if r.code != 1 || !strings.Contains(r.stdout, "first bad seq 12 ") || !strings.Contains(r.stdout, "changed") {
		t.Fatalf("verify of a tampered database: exit %d %q", r.code, r.stdout)
	}
	// Could not verify: no public key.
	os.Remove(tampered + ".pub")
	if r := run(t, "", "--db", tampered, "audit", "verify"); r.code != 2 {
		t.Fatalf("verify without a public key: exit %d %q %q", r.code, r.stdout, r.stderr)
	}

	r = mustRun(t, "", "--db", db, "audit", "prune", "--before", "2999-01-01")
	if !strings.Contains(r.stdout, "pruned ") {
		t.Fatalf("prune: %q", r.stdout)
	}
	r = mustRun(t, "", "--db", db, "audit", "verify")
	if !strings.Contains(r.stdout, "pruned: the first") {
		t.Fatalf("verify after prune: %q", r.stdout)
	}
}

func TestKeygen(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "k")
	r := mustRun(t, "", "keygen", "--name", "wtb.example/test", "--out", prefix)
	if !strings.Contains(r.stdout, "origin wtb.example/test") {
		t.Fatalf("keygen: %q", r.stdout)
	}
	if r := run(t, "", "keygen", "--out", prefix); r.code != 1 {
		t.Fatalf("keygen over existing files: exit %d", r.code)
	}
	mustRun(t, "", "keygen", "--out", prefix, "--force")
	if r := run(t, "", "keygen", "--name", "a b"); r.code != 2 {
		t.Fatalf("keygen --name with a space: exit %d", r.code)
	}
	// A database signed with this key verifies with its public key only.
	db := tempDB(t)
	mustRun(t, "", "--db", db, "--signing-key", prefix+".key", "demo")
	mustRun(t, "", "--db", db, "audit", "verify", "--pubkey", prefix+".pub")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func sqlExec(t *testing.T, db, q string) {
	t.Helper()
	c, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Exec(q); err != nil {
		t.Fatal(err)
	}
}

// TestNATSWitness hands checkpoints to a JetStream subject (an embedded
// server) and reads them back from the stream.
func TestNATSWitness(t *testing.T) {
	srv := jstest.Start(t)
	subject := "wtb.test.witness"
	w, err := parseWitness(srv.URL() + "/" + subject)
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, _ := ledger.GenerateKey("wtb.test/nats")
	signer, _ := ledger.NewSigner(skey)
	keys, _ := ledger.NewVerifier(vkey)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for size := uint64(1); size <= 3; size++ {
		c, _ := signer.Sign(size, ledger.Hash{byte(size)})
		if err := w.Witness(ctx, c.Note); err != nil {
			t.Fatalf("witness: %v", err)
		}
	}
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	stream, err := js.StreamNameBySubject(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := js.Stream(ctx, stream)
	for seq := uint64(1); seq <= 3; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		c, err := keys.Open(m.Data)
		if err != nil || c.Size != seq {
			t.Fatalf("message %d: %+v, %v", seq, c, err)
		}
	}
	w.(*natsWitness).nc.Close()
}

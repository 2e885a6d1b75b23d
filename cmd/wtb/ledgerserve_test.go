package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/sqlite"
)

// sseEntries reads the entries of an SSE stream opened on base with query
// q, sending each on the returned channel, until ctx ends or the stream
// does.
func sseEntries(t *testing.T, ctx context.Context, base string, q url.Values) <-chan audit.Entry {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/stream?"+q.Encode(), nil)
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		t.Fatalf("GET /v1/stream: %s", res.Status)
	}
	out := make(chan audit.Entry, 1024)
	go func() {
		defer res.Body.Close()
		defer close(out)
		br := bufio.NewReader(res.Body)
		event := ""
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimSpace(line[7:])
			case strings.HasPrefix(line, "data: ") && event == "entry":
				var e audit.Entry
				if json.Unmarshal([]byte(line[6:]), &e) == nil {
					select {
					case out <- e:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	return out
}

// seqsUntil reads entries from c until the one with event id id and
// returns the seqs and types read, that one included.
func seqsUntil(t *testing.T, ctx context.Context, what string, c <-chan audit.Entry, id string) ([]int64, []audit.Type) {
	t.Helper()
	var (
		seqs  []int64
		types []audit.Type
	)
	for {
		select {
		case e, ok := <-c:
			if !ok {
				t.Fatalf("%s ended after seqs %v", what, seqs)
			}
			seqs, types = append(seqs, e.Seq), append(types, e.Type)
			if e.EventID == id {
				return seqs, types
			}
		case <-ctx.Done():
			t.Fatalf("%s: no entry %s after seqs %v: %v", what, id, seqs, ctx.Err())
		}
	}
}

// sealsOf returns the run_sealed entries of the store behind base.
func sealsOf(t *testing.T, base string) []audit.Entry {
	t.Helper()
	res, err := testClient.Get(base + "/v1/audit?event_type=" + string(audit.TypeRunSealed))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		Entries []audit.Entry `json:"entries"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /v1/audit?event_type=run_sealed: %d %v", res.StatusCode, err)
	}
	return page.Entries
}

// TestServeStreamsSeals: a run's seal, which wtb serve records when the
// run ends, reaches the live streams like every other entry. A stream
// followed live from after=0 carries exactly the seqs that a replay from 0
// carries, the run_sealed entry among them; and a run that ends right
// before the server stops is sealed before it stops.
func TestServeStreamsSeals(t *testing.T) {
	for _, k := range []string{envDB, envStore, envSync, envAddr, envTokens, envSigningKey} {
		t.Setenv(k, "")
	}
	db := tempDB(t)
	base, stop := serveInProcess(t, "--addr", "127.0.0.1:0", "--db", db)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	live := sseEntries(t, ctx, base, url.Values{"topic": {"audit:*"}, "after": {"0"}})

	var run []event.Event
	for i := range 5 {
		run = append(run, genEvent("sealed", i, 5))
	}
	if ok, err := postBatch(testClient, base, run); !ok {
		t.Fatalf("ingest: %v", err)
	}
	// Wait for the seal in the store, then record one more entry: the live
	// stream must carry the seal before it.
	for len(sealsOf(t, base)) == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the run was not sealed")
		case <-time.After(20 * time.Millisecond):
		}
	}
	marker := genEvent("marker", 1, 5)
	if ok, err := postBatch(testClient, base, []event.Event{marker}); !ok {
		t.Fatalf("ingest: %v", err)
	}
	liveSeqs, liveTypes := seqsUntil(t, ctx, "the live stream", live, marker.EventID())
	replay := sseEntries(t, ctx, base, url.Values{"topic": {"audit:*"}, "after": {"0"}})
	replaySeqs, _ := seqsUntil(t, ctx, "the replay", replay, marker.EventID())
	if !slices.Equal(liveSeqs, replaySeqs) {
		t.Fatalf("the live stream carried seqs %v (%v), a replay from 0 %v", liveSeqs, liveTypes, replaySeqs)
	}
	if !slices.Contains(liveTypes, audit.TypeRunSealed) {
		t.Fatalf("the live stream carried no run_sealed entry: %v", liveTypes)
	}
	// The seal is counted in /metrics, computed from the leaves kept.
	metrics := getBody(t, base+"/metrics")
	for _, m := range []string{"wtb_ledger_runs_sealed_total 1\n", "wtb_ledger_seals_from_memory_total 1\n", "wtb_ledger_late_entries_total 0\n"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}

	// A run that ends just before the server stops is sealed before the
	// store closes.
	var last []event.Event
	for i := range 5 {
		last = append(last, genEvent("last", i, 5))
	}
	if ok, err := postBatch(testClient, base, last); !ok {
		t.Fatalf("ingest: %v", err)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
	for _, exec := range []string{"sealed-exec-000000", "last-exec-000000"} {
		r := mustRun(t, "", "--db", db, "audit", "verify", "--execution", exec)
		if !strings.Contains(r.stdout, "run "+exec+": complete:") {
			t.Fatalf("verify --execution %s: %q", exec, r.stdout)
		}
	}
}

// TestSealCatchUpOnOpen: a run whose end was recorded by a process that
// stopped before sealing it (here: appended straight to the store, no
// sealer running) is sealed by the next recording command that opens the
// store; verify --execution then proves it complete, and a second opening
// seals nothing more.
func TestSealCatchUpOnOpen(t *testing.T) {
	for _, k := range []string{envDB, envStore, envSync, envSigningKey} {
		t.Setenv(k, "")
	}
	db := tempDB(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ended []audit.Entry
	for i := range 5 {
		ended = append(ended, audit.FromEvent(genEvent("crashed", i, 5)))
	}
	if _, err := st.Append(ctx, ended); err != nil {
		t.Fatal(err)
	}
	st.Close()
	const exec = "crashed-exec-000000"
	if r := run(t, "", "--db", db, "audit", "verify", "--execution", exec).stdout; strings.Contains(r, "complete:") {
		t.Fatalf("the run is sealed before any recording command opened the store: %q", r)
	}
	seals := func() int {
		t.Helper()
		st, err := sqlite.Open(ctx, db, sqlite.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		es, err := st.Query(ctx, audit.Filter{Types: []audit.Type{audit.TypeRunSealed}})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	for i := range 2 {
		mustRun(t, "", "--db", db, "import", "-")
		if n := seals(); n != 1 {
			t.Fatalf("after opening %d times: %d seals, want 1", i+1, n)
		}
	}
	r := mustRun(t, "", "--db", db, "audit", "verify", "--execution", exec)
	if !strings.Contains(r.stdout, "run "+exec+": complete:") {
		t.Fatalf("verify --execution: %q", r.stdout)
	}
}

// getBody returns the body of GET url, failing t unless it answers 200.
func getBody(t *testing.T, url string) string {
	t.Helper()
	res, err := testClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return string(b)
}

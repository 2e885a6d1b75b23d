package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/postgres"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// TestMatchesMemoryStore drives the PostgreSQL store and the memory store
// with the same random batches (small id pools, so duplicates within and
// across batches are common) and checks they agree: what each Append
// records and reports as duplicates, the relative order of seqs, and what
// random queries and summaries return. Seq values themselves may differ
// (PostgreSQL leaves gaps).
func TestMatchesMemoryStore(t *testing.T) {
	dsn := pgtest.Require(t)
	ctx := context.Background()
	types := []audit.Type{"execution_started", "node_started", "node_completed", "node_failed", "execution_completed"}
	sevs := []audit.Severity{audit.SeverityDebug, audit.SeverityInfo, audit.SeveritySuccess, audit.SeverityWarning, audit.SeverityError}
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

	rapid.Check(t, func(rt *rapid.T) {
		_, schema := pgtest.NewSchema(t)
		pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		if err != nil {
			rt.Fatal(err)
		}
		defer pg.Close()
		mem := audit.NewMemoryStore()
		defer mem.Close()

		entryGen := rapid.Custom(func(rt *rapid.T) audit.Entry {
			return audit.Entry{
				EventID:     fmt.Sprintf("ev-%d", rapid.IntRange(0, 40).Draw(rt, "id")),
				SourceType:  "X",
				Timestamp:   base.Add(time.Duration(rapid.IntRange(0, 1e6).Draw(rt, "ns")) * time.Microsecond / 7),
				Type:        rapid.SampledFrom(types).Draw(rt, "type"),
				Severity:    rapid.SampledFrom(sevs).Draw(rt, "sev"),
				Message:     "m",
				ExecutionID: rapid.SampledFrom([]string{"", "a", "b", "c"}).Draw(rt, "exec"),
				NodeID:      rapid.SampledFrom([]string{"", "n1", "n2"}).Draw(rt, "node"),
				Details:     json.RawMessage(rapid.SampledFrom([]string{"", `{}`, `{"workflow_id":"w"}`}).Draw(rt, "details")),
			}
		})
		pgSeq := map[string]int64{}
		memSeq := map[string]int64{}
		for range rapid.IntRange(1, 6).Draw(rt, "batches") {
			batch := rapid.SliceOfN(entryGen, 1, 15).Draw(rt, "batch")
			a, b := slices.Clone(batch), slices.Clone(batch)
			r1, err1 := pg.Append(ctx, a)
			r2, err2 := mem.Append(ctx, b)
			if err1 != nil || err2 != nil {
				rt.Fatalf("Append: pg %v, memory %v", err1, err2)
			}
			if r1.Appended != r2.Appended || !slices.Equal(r1.Duplicates, r2.Duplicates) {
				rt.Fatalf("Append: pg %+v, memory %+v", r1, r2)
			}
			for i := range a {
				if (a[i].Seq == 0) != (b[i].Seq == 0) {
					rt.Fatalf("entry %d (%s): pg seq %d, memory seq %d", i, a[i].EventID, a[i].Seq, b[i].Seq)
				}
				if a[i].Seq != 0 {
					pgSeq[a[i].EventID], memSeq[b[i].EventID] = a[i].Seq, b[i].Seq
				}
			}
		}
		filter := audit.Filter{
			ExecutionID: rapid.SampledFrom([]string{"", "a", "b"}).Draw(rt, "f.exec"),
			NodeID:      rapid.SampledFrom([]string{"", "n1"}).Draw(rt, "f.node"),
			MinSeverity: rapid.SampledFrom(append([]audit.Severity{""}, sevs...)).Draw(rt, "f.sev"),
			Limit:       rapid.IntRange(0, 30).Draw(rt, "f.limit"),
		}
		if rapid.Bool().Draw(rt, "f.types") {
			filter.Types = []audit.Type{rapid.SampledFrom(types).Draw(rt, "f.type")}
		}
		if rapid.Bool().Draw(rt, "f.since") {
			filter.Since = base.Add(time.Duration(rapid.IntRange(0, 1e6).Draw(rt, "f.sincens")) * time.Microsecond / 7)
		}
		got, err1 := pg.Query(ctx, filter)
		want, err2 := mem.Query(ctx, filter)
		if err1 != nil || err2 != nil {
			rt.Fatalf("Query: pg %v, memory %v", err1, err2)
		}
		ids := func(es []audit.Entry) (out []string) {
			for _, e := range es {
				out = append(out, e.EventID)
			}
			return out
		}
		if !slices.Equal(ids(got), ids(want)) {
			rt.Fatalf("Query %+v:\n pg     %v\n memory %v", filter, ids(got), ids(want))
		}
		for _, e := range got {
			if e.Seq != pgSeq[e.EventID] {
				rt.Fatalf("Query returned %s with seq %d, Append assigned %d", e.EventID, e.Seq, pgSeq[e.EventID])
			}
		}
		for _, exec := range []string{"a", "b", "c"} {
			s1, err1 := pg.Summary(ctx, exec)
			s2, err2 := mem.Summary(ctx, exec)
			if (err1 == nil) != (err2 == nil) {
				rt.Fatalf("Summary(%s): pg %v, memory %v", exec, err1, err2)
			}
			if err1 != nil {
				continue
			}
			s1.FirstSeq, s1.LastSeq, s2.FirstSeq, s2.LastSeq = 0, 0, 0, 0
			g, _ := json.Marshal(s1)
			w, _ := json.Marshal(s2)
			if string(g) != string(w) {
				rt.Fatalf("Summary(%s):\n pg     %s\n memory %s", exec, g, w)
			}
		}
	})
}

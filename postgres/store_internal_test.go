package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/audit/storetest"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// testTimeout bounds every test's waits on the server.
const testTimeout = 60 * time.Second

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// openSchema opens a store on schema of the test server, closed when t ends.
func openSchema(t *testing.T, dsn, schema string, opts Options) *Store {
	t.Helper()
	opts.Schema = schema
	s, err := Open(testCtx(t), dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// entry makes a valid entry with the given id.
func entry(id, execution string) audit.Entry {
	d := 1.5
	return audit.Entry{
		EventID:     id,
		SourceType:  "NodeCompletedEvent",
		Timestamp:   time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC),
		Type:        "node_completed",
		Severity:    audit.SeveritySuccess,
		Message:     "Node 'n' completed",
		ExecutionID: execution,
		NodeID:      "n",
		Details:     json.RawMessage(`{"k":1}`),
		DurationMS:  &d,
	}
}

// TestConformanceOtherModes runs the conformance suite on the append modes
// the benchmarks compare with (the default mode runs in TestConformance).
func TestConformanceOtherModes(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode appendMode
	}{{"insert", modeInsert}, {"staging", modeStaging}} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) audit.Store {
				dsn, schema := pgtest.NewSchema(t)
				s := openSchema(t, dsn, schema, Options{})
				s.mode = tc.mode
				return s
			})
		})
	}
}

func TestOpenConcurrentOnFreshSchema(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	ctx := testCtx(t)
	const openers = 8
	stores := make([]*Store, openers)
	errs := make([]error, openers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range openers {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(ctx, dsn, Options{Schema: schema, MaxConns: 2})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}

	ms, err := embedded()
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, m := range ms {
		want = append(want, m.Version)
	}
	rows, err := stores[0].pool.Query(ctx, "SELECT version FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("schema_migrations = %v, want each migration once: %v", got, want)
	}

	// Every store works on the shared schema, and they see each other's entries.
	for i, s := range stores {
		if _, err := s.Append(ctx, []audit.Entry{entry(fmt.Sprintf("e%d", i), "x")}); err != nil {
			t.Fatalf("Append via store %d: %v", i, err)
		}
	}
	n, err := stores[openers-1].Count(ctx)
	if err != nil || n != openers {
		t.Fatalf("Count = %d, %v; want %d", n, err, openers)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	ctx := testCtx(t)
	s := openSchema(t, dsn, schema, Options{})
	if _, err := s.pool.Exec(ctx, "INSERT INTO "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" (version, name) VALUES (9999, 'future')"); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, dsn, Options{Schema: schema})
	if err == nil {
		s2.Close()
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenSchemaChoice(t *testing.T) {
	dsn := pgtest.Require(t)
	_, fromURL := pgtest.NewSchema(t)
	_, fromOpts := pgtest.NewSchema(t)
	withParam := func(schema string) string {
		return pgtest.WithParam(t, dsn, "schema", schema)
	}
	tests := []struct {
		name string
		dsn  string
		opts Options
		want string
	}{
		{"dsn parameter", withParam(fromURL), Options{}, fromURL},
		{"options win over the dsn", withParam(fromURL), Options{Schema: fromOpts}, fromOpts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(testCtx(t), tc.dsn, tc.opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if s.Schema() != tc.want {
				t.Fatalf("Schema() = %q, want %q", s.Schema(), tc.want)
			}
			var exists bool
			if err := s.pool.QueryRow(testCtx(t), "SELECT to_regclass($1) IS NOT NULL", pgx.Identifier{tc.want, "entries"}.Sanitize()).Scan(&exists); err != nil || !exists {
				t.Fatalf("table %s.entries exists = %v, %v", tc.want, exists, err)
			}
		})
	}
}

func TestOpenInvalidOptions(t *testing.T) {
	dsn := pgtest.Require(t)
	long := make([]byte, MaxSchemaLen+1)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		name string
		dsn  string
		opts Options
		want error
	}{
		{"schema too long", dsn, Options{Schema: string(long)}, ErrInvalidOptions},
		{"NUL in schema", dsn, Options{Schema: "a\x00b"}, ErrInvalidOptions},
		{"negative MaxConns", dsn, Options{MaxConns: -1}, ErrInvalidOptions},
		{"negative MaxBatch", dsn, Options{MaxBatch: -1}, ErrInvalidOptions},
		{"negative ConnectTimeout", dsn, Options{ConnectTimeout: -time.Second}, ErrInvalidOptions},
		{"bad dsn", "postgres://%zz", Options{}, nil},
		{"nothing listening", "postgres://postgres@127.0.0.1:1/test?sslmode=disable", Options{ConnectTimeout: 2 * time.Second}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(testCtx(t), tc.dsn, tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAppendBatchTooLarge(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	s := openSchema(t, dsn, schema, Options{MaxBatch: 2})
	batch := []audit.Entry{entry("a", "x"), entry("b", "x"), entry("c", "x")}
	if _, err := s.Append(testCtx(t), batch); !errors.Is(err, ErrBatchTooLarge) {
		t.Fatalf("Append of 3 with MaxBatch 2: err = %v, want ErrBatchTooLarge", err)
	}
	if _, err := s.Append(testCtx(t), batch[:2]); err != nil {
		t.Fatalf("Append of 2: %v", err)
	}
}

// TestAppendSeqFollowsCommitOrder shows deterministically what the append
// lock guarantees: writer A has drawn its seq but not committed; writer B
// starts after it. With the lock, B cannot draw a seq until A's commit is
// visible, so a reader never sees B without A. Without it (the subtest that
// turns the lock off), B commits a larger seq first, a reader's cursor moves
// past A's seq, and A's entry is never seen by that reader: the anomaly.
func TestAppendSeqFollowsCommitOrder(t *testing.T) {
	tests := []struct {
		name   string
		noLock bool
	}{
		{"with append lock", false},
		{"without append lock the reader misses an entry", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dsn, schema := pgtest.NewSchema(t)
			ctx := testCtx(t)
			s := openSchema(t, dsn, schema, Options{})
			s.noAppendLock = tc.noLock
			// The Merkle tree follows the order the append lock gives: it
			// is off when the lock is.
			s.led.off = tc.noLock

			held := make(chan struct{})
			release := make(chan struct{})
			var calls atomic.Int32
			s.beforeCommit = func(ctx context.Context, _ *pgx.Conn) error {
				if calls.Add(1) == 1 { // writer A only
					close(held)
					select {
					case <-release:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return nil
			}
			a := []audit.Entry{entry("A", "x")}
			b := []audit.Entry{entry("B", "x")}
			aDone := make(chan error, 1)
			bDone := make(chan error, 1)
			go func() { _, err := s.Append(ctx, a); aDone <- err }()
			<-held
			go func() { _, err := s.Append(ctx, b); bDone <- err }()

			if tc.noLock {
				if err := <-bDone; err != nil {
					t.Fatalf("Append B: %v", err)
				}
			} else {
				waitForAppendLockWaiter(t, s)
			}
			page, err := s.Query(ctx, audit.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			cursor := int64(0)
			for _, e := range page {
				cursor = e.Seq
			}
			close(release)
			if err := <-aDone; err != nil {
				t.Fatalf("Append A: %v", err)
			}
			if !tc.noLock {
				if err := <-bDone; err != nil {
					t.Fatalf("Append B: %v", err)
				}
			}
			rest, err := s.Query(ctx, audit.Filter{After: cursor})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, e := range append(page, rest...) {
				seen[e.EventID] = true
			}
			if tc.noLock {
				// The anomaly the lock exists for must show here, or this
				// test could not tell the lock's effect.
				if a[0].Seq > b[0].Seq || seen["A"] {
					t.Fatalf("expected the anomaly without the lock: seq A=%d B=%d, reader saw %v", a[0].Seq, b[0].Seq, seen)
				}
				return
			}
			if len(page) != 0 {
				t.Fatalf("while A was uncommitted the reader saw %d entries, want 0", len(page))
			}
			if !(a[0].Seq < b[0].Seq) {
				t.Fatalf("seq A=%d, B=%d: want A < B (A committed first)", a[0].Seq, b[0].Seq)
			}
			if !seen["A"] || !seen["B"] {
				t.Fatalf("paging reader saw %v, want A and B", seen)
			}
		})
	}
}

// waitForAppendLockWaiter waits until a session waits for s's append lock.
func waitForAppendLockWaiter(t *testing.T, s *Store) {
	t.Helper()
	ctx := testCtx(t)
	hi, lo := uint32(uint64(s.appendKey)>>32), uint32(uint64(s.appendKey))
	for {
		var n int
		err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1`,
			int64(hi), int64(lo)).Scan(&n)
		if err != nil {
			t.Fatalf("pg_locks: %v", err)
		}
		if n > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("no writer waited for the append lock")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestStressConcurrentStoresPagingReaders runs writers on several stores
// (separate pools, as separate processes would) into one schema, resending
// some event ids, while readers page through with Filter.After. Every reader
// must see every recorded entry exactly once, in strictly increasing seq,
// and never an entry reported as a duplicate twice.
func TestStressConcurrentStoresPagingReaders(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	ctx := testCtx(t)
	const (
		stores           = 4
		writersPerStore  = 2
		batchesPerWriter = 60
		maxBatch         = 40
		readers          = 3
	)
	ss := make([]*Store, stores)
	for i := range ss {
		ss[i] = openSchema(t, dsn, schema, Options{MaxConns: 4})
	}

	var (
		mu       sync.Mutex
		recorded = map[string]int64{} // event id -> seq
		sent     []string
	)
	var writing sync.WaitGroup
	for w := range stores * writersPerStore {
		s := ss[w%stores]
		writing.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for b := range batchesPerWriter {
				n := 1 + rng.IntN(maxBatch)
				batch := make([]audit.Entry, 0, n)
				for i := range n {
					id := fmt.Sprintf("w%d-b%d-%d", w, b, i)
					mu.Lock()
					if len(sent) > 0 && rng.IntN(10) == 0 { // resend an id some writer sent
						id = sent[rng.IntN(len(sent))]
					}
					mu.Unlock()
					batch = append(batch, entry(id, fmt.Sprintf("exec-%d", rng.IntN(5))))
				}
				res, err := s.Append(ctx, batch)
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				for _, e := range batch {
					sent = append(sent, e.EventID)
					if e.Seq == 0 {
						continue
					}
					if _, dup := recorded[e.EventID]; dup {
						t.Errorf("event %s recorded twice", e.EventID)
					}
					recorded[e.EventID] = e.Seq
				}
				mu.Unlock()
				if res.Appended+len(res.Duplicates) != len(batch) {
					t.Errorf("Appended %d + duplicates %d != batch %d", res.Appended, len(res.Duplicates), len(batch))
				}
			}
		})
	}
	var done atomic.Bool
	go func() { writing.Wait(); done.Store(true) }()

	seen := make([][]audit.Entry, readers)
	var reading sync.WaitGroup
	for r := range readers {
		s := ss[r%stores]
		reading.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 2))
			cursor := int64(0)
			for {
				finished := done.Load() // read before the page: a final empty page after this is the end
				page, err := s.Query(ctx, audit.Filter{After: cursor, Limit: 1 + rng.IntN(300)})
				if err != nil {
					t.Errorf("Query: %v", err)
					return
				}
				for _, e := range page {
					if e.Seq <= cursor {
						t.Errorf("reader %d: seq %d after cursor %d", r, e.Seq, cursor)
						return
					}
					cursor = e.Seq
				}
				seen[r] = append(seen[r], page...)
				if len(page) == 0 && finished {
					return
				}
			}
		})
	}
	reading.Wait()
	if t.Failed() {
		return
	}
	for r, got := range seen {
		if len(got) != len(recorded) {
			t.Errorf("reader %d saw %d entries, %d were recorded", r, len(got), len(recorded))
		}
		ids := map[string]bool{}
		for _, e := range got {
			if ids[e.EventID] {
				t.Errorf("reader %d saw %s twice", r, e.EventID)
			}
			ids[e.EventID] = true
			if seq, ok := recorded[e.EventID]; !ok || seq != e.Seq {
				t.Errorf("reader %d saw %s with seq %d, recorded seq %d (%v)", r, e.EventID, e.Seq, seq, ok)
			}
		}
	}
	n, err := ss[0].Count(ctx)
	if err != nil || n != int64(len(recorded)) {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(recorded))
	}
	t.Logf("%d entries recorded by %d writers on %d stores, read by %d paging readers", len(recorded), stores*writersPerStore, stores, readers)
}

func TestPGTimeMatchesSplitTime(t *testing.T) {
	epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tm := range []time.Time{
		epoch,
		epoch.Add(-1),
		epoch.Add(1500),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(1900, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("x", -5*3600)),
		time.Date(2026, 11, 27, 10, 0, 0, 123_456_789, time.UTC),
		time.Date(2262, 1, 1, 0, 0, 0, 1, time.UTC),
	} {
		us, nanos := pgTime(tm)
		wantTS, wantNanos := splitTime(tm)
		got := epoch.Add(time.Duration(us) * time.Microsecond)
		if !got.Equal(wantTS) || nanos != wantNanos {
			t.Errorf("%v: pgTime = %v + %dns, splitTime = %v + %dns", tm, got, nanos, wantTS, wantNanos)
		}
		if back := joinTime(got, nanos); !back.Equal(tm) {
			t.Errorf("%v: round trip gives %v", tm, back)
		}
	}
}

// TestReadEntriesBinaryAndScanAgree reads the same rows through the binary
// decoder and, with the simple protocol (text results), through the
// scanning fallback: both must give the same entries.
func TestReadEntriesBinaryAndScanAgree(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	ctx := testCtx(t)
	s := openSchema(t, dsn, schema, Options{})
	var batch []audit.Entry
	for i := range 50 {
		e := entry(fmt.Sprintf("id-%d", i), fmt.Sprintf("exec-%d", i%3))
		e.Timestamp = e.Timestamp.Add(time.Duration(i) * 1001 * time.Nanosecond)
		switch i % 4 {
		case 0:
			e.Details, e.DurationMS, e.NodeID = nil, nil, ""
		case 1:
			e.Error, e.ExecutionID = "boom: ünïcode ✓", ""
		case 2:
			e.Timestamp = time.Date(1950, 1, 2, 3, 4, 5, 999_999_999, time.UTC)
		}
		batch = append(batch, e)
	}
	if _, err := s.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	sql, args := s.buildQuery(audit.Filter{Limit: 100})
	read := func(mode pgx.QueryExecMode) []audit.Entry {
		rows, err := s.pool.Query(ctx, sql, append([]any{mode}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readEntries(rows)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	bin, text := read(pgx.QueryExecModeCacheStatement), read(pgx.QueryExecModeSimpleProtocol)
	if len(bin) != len(batch) || len(text) != len(batch) {
		t.Fatalf("read %d (binary) and %d (text) entries, want %d", len(bin), len(text), len(batch))
	}
	for i := range batch {
		for _, got := range []audit.Entry{bin[i], text[i]} {
			want := batch[i]
			if len(want.Details) == 0 {
				want.Details = json.RawMessage("{}")
			}
			if !got.Timestamp.Equal(want.Timestamp) || got.Timestamp.Location() != time.UTC {
				t.Fatalf("entry %d: timestamp %v, want %v in UTC", i, got.Timestamp, want.Timestamp)
			}
			if deref2(got.DurationMS) != deref2(want.DurationMS) {
				t.Fatalf("entry %d: duration %v, want %v", i, deref2(got.DurationMS), deref2(want.DurationMS))
			}
			got.Timestamp, want.Timestamp = time.Time{}, time.Time{}
			got.DurationMS, want.DurationMS = nil, nil
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
				t.Fatalf("entry %d:\n got %+v\nwant %+v", i, got, want)
			}
		}
	}
}

func deref2(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestAppendDuplicateFallback follows a store through the unchecked and
// checked ways of appending: a batch meeting a recorded event id is written
// again, checked, and batches stay checked until one has no duplicates.
func TestAppendDuplicateFallback(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	ctx := testCtx(t)
	s := openSchema(t, dsn, schema, Options{})
	steps := []struct {
		ids        []string
		wantDups   []string
		wantExpect bool // expectDuplicates after the step
	}{
		{[]string{"a", "b"}, nil, false},
		{[]string{"b", "c", "a"}, []string{"b", "a"}, true}, // unchecked fails, checked succeeds
		{[]string{"d"}, nil, false},                         // checked, clean: back to unchecked
		{[]string{"e", "e"}, []string{"e"}, false},          // a repeat within the batch is no reason to check
		{[]string{"f", "d"}, []string{"d"}, true},
	}
	var last int64
	for i, st := range steps {
		batch := make([]audit.Entry, len(st.ids))
		for j, id := range st.ids {
			batch[j] = entry(id, "x")
		}
		res, err := s.Append(ctx, batch)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !slices.Equal(res.Duplicates, st.wantDups) || res.Appended != len(st.ids)-len(st.wantDups) {
			t.Fatalf("step %d: appended %d, duplicates %v; want duplicates %v", i, res.Appended, res.Duplicates, st.wantDups)
		}
		for _, e := range batch {
			if e.Seq != 0 {
				if e.Seq <= last {
					t.Fatalf("step %d: seq %d not above %d", i, e.Seq, last)
				}
				last = e.Seq
			}
		}
		if got := s.expectDuplicates.Load(); got != st.wantExpect {
			t.Fatalf("step %d: expectDuplicates = %v, want %v", i, got, st.wantExpect)
		}
	}
	n, err := s.Count(ctx)
	if err != nil || n != 6 {
		t.Fatalf("Count = %d, %v; want 6 (a..f)", n, err)
	}
}

func TestAsyncCommitSetting(t *testing.T) {
	dsn := pgtest.Require(t)
	for _, tc := range []struct {
		async bool
		want  string
	}{{false, "on"}, {true, "off"}} {
		_, schema := pgtest.NewSchema(t)
		s := openSchema(t, dsn, schema, Options{AsyncCommit: tc.async})
		var got string
		if err := s.pool.QueryRow(testCtx(t), "SHOW synchronous_commit").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("AsyncCommit %v: synchronous_commit = %s, want %s", tc.async, got, tc.want)
		}
	}
}

func TestIsDSN(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"postgres://u@h/db", true},
		{"postgresql://h/db?schema=x", true},
		{"wtb.db", false},
		{"host=h dbname=db", false},
		{"", false},
	} {
		if got := IsDSN(tc.s); got != tc.want {
			t.Errorf("IsDSN(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// TestAppendGroupsRowsByExecution checks the physical layout Append
// writes: seqs follow the batch order, while the rows lie on the heap
// grouped by execution id.
func TestAppendGroupsRowsByExecution(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	ctx := testCtx(t)
	s := openSchema(t, dsn, schema, Options{})
	var batch []audit.Entry
	for i := range 200 { // 10 executions, interleaved
		batch = append(batch, entry(fmt.Sprintf("e%03d", i), fmt.Sprintf("exec-%d", (i*7)%10)))
	}
	if _, err := s.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(batch); i++ {
		if batch[i].Seq <= batch[i-1].Seq {
			t.Fatalf("seq %d of entry %d not above %d: seqs must follow the batch order", batch[i].Seq, i, batch[i-1].Seq)
		}
	}
	rows, err := s.pool.Query(ctx, "SELECT execution_id, seq FROM "+s.q.entries+" ORDER BY ctid")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Exec string
		Seq  int64
	}
	heap, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	if len(heap) != len(batch) {
		t.Fatalf("%d rows on the heap, want %d", len(heap), len(batch))
	}
	for i := 1; i < len(heap); i++ {
		a, b := heap[i-1], heap[i]
		if a.Exec > b.Exec || (a.Exec == b.Exec && a.Seq >= b.Seq) {
			t.Fatalf("heap order not grouped by execution then seq: %v before %v", a, b)
		}
	}
}

// TestMigrateFromVersion1 opens a schema left at migration 1 with entries
// in it: Open applies the rest, and the entry count starts right.
func TestMigrateFromVersion1(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	ctx := testCtx(t)
	ms, err := embedded()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	q := pgx.Identifier{schema}.Sanitize()
	setup := []string{
		"CREATE SCHEMA " + q,
		"SET search_path TO " + q,
		"CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
		ms[0].SQL,
		"INSERT INTO schema_migrations (version, name) VALUES (1, 'entries')",
		`INSERT INTO entries (seq, event_id, source_type, ts, event_type, severity, message)
			SELECT g, 'old-' || g, 'X', now(), 'node_started', 'info', 'm' FROM generate_series(1, 42) g`,
		"SELECT setval('entries_seq', 42)",
		"SET search_path TO DEFAULT",
	}
	for _, sql := range setup {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	s := openSchema(t, dsn, schema, Options{})
	if n, err := s.Count(ctx); err != nil || n != 42 {
		t.Fatalf("Count after migrating = %d, %v; want 42", n, err)
	}
	batch := []audit.Entry{entry("new", "x"), entry("old-7", "x")}
	if _, err := s.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if batch[0].Seq <= 42 || batch[1].Seq != 0 { // gaps are allowed: the unchecked attempt used 43..44
		t.Fatalf("seqs %d, %d; want above 42 and 0 (old-7 is recorded)", batch[0].Seq, batch[1].Seq)
	}
	if n, err := s.Count(ctx); err != nil || n != 43 {
		t.Fatalf("Count = %d, %v; want 43", n, err)
	}
}

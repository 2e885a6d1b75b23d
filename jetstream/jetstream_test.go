package jetstream_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/jetstream"
	"github.com/wtbdev/wtb/jetstream/jstest"
)

// quiet drops the logs of connections and consumers: the tests check
// outcomes, and a restart test would print pages of reconnection lines.
var quiet = slog.New(slog.DiscardHandler)

// testStream is a stream configuration with a name and subjects of the
// test's own.
func testStream(t testing.TB) jetstream.StreamConfig {
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := strings.ToUpper(hex.EncodeToString(b[:]))
	return jetstream.StreamConfig{Name: "WTB_TEST_" + id, SubjectPrefix: "wtbtest." + strings.ToLower(id), MaxAge: time.Hour}
}

// connect connects to url, closed when t ends.
func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := jetstream.Connect(url, t.Name(), false, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// events returns n node events of a few executions, ids derived from seed.
func events(seed string, n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		ev := event.New[event.NodeStarted]()
		ev.ID = fmt.Sprintf("%s-%07d", seed, i)
		ev.ExecutionID = fmt.Sprintf("%s-exec-%d", seed, i%7)
		ev.NodeID, ev.NodeName, ev.NodeType = "n", "n", "llm"
		evs[i] = ev
	}
	return evs
}

// recorder is a recorder on a fresh in-memory store, closed when t ends.
func recorder(t testing.TB) (*audit.Recorder, audit.Store) {
	t.Helper()
	st := audit.NewMemoryStore()
	rec := audit.NewRecorder(st, audit.RecorderOptions{})
	t.Cleanup(func() {
		if err := rec.Close(context.Background()); err != nil {
			t.Errorf("recorder: %v", err)
		}
	})
	return rec, st
}

// startConsumer starts a consumer of cfg into rec, stopped when t ends
// (before the recorder closes).
func startConsumer(t testing.TB, nc *nats.Conn, rec jetstream.Recorder, opts jetstream.ConsumerOptions) *jetstream.Consumer {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = 20 * time.Millisecond
	}
	c, err := jetstream.StartConsumer(nc, rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("consumer stop: %v", err)
		}
	})
	return c
}

// waitRecorded waits until st holds n entries.
func waitRecorded(t testing.TB, st audit.Store, n int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, err := st.Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entries recorded after %s, want %d", got, within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkLog checks the guarantees: every acknowledged event recorded, none
// twice, nothing else, seqs strictly increasing.
func checkLog(t testing.TB, st audit.Store, acked []event.Event) {
	t.Helper()
	want := map[string]bool{}
	for _, ev := range acked {
		want[ev.EventID()] = true
	}
	seen := map[string]bool{}
	var after int64
	for {
		es, err := st.Query(context.Background(), audit.Filter{After: after, Limit: audit.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Seq <= after {
				t.Fatalf("seq %d after %d: not strictly increasing", e.Seq, after)
			}
			after = e.Seq
			if seen[e.EventID] {
				t.Fatalf("event %s recorded twice", e.EventID)
			}
			seen[e.EventID] = true
			if !want[e.EventID] {
				t.Fatalf("event %s recorded but never acknowledged to a publisher", e.EventID)
			}
		}
		if len(es) < audit.MaxLimit {
			break
		}
	}
	lost := 0
	for id := range want {
		if !seen[id] {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged events lost", lost, len(want))
	}
}

// streamInfo returns the stream's state.
func streamInfo(t testing.TB, nc *nats.Conn, name string) *njs.StreamInfo {
	t.Helper()
	js, _ := njs.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestSubject(t *testing.T) {
	ev := event.New[event.ExecutionStarted]()
	if got := jetstream.Subject("wtb.events", ev); got != "wtb.events.execution."+ev.WireName() {
		t.Errorf("Subject = %q", got)
	}
}

func TestStreamConfig(t *testing.T) {
	d := jetstream.StreamConfig{}.WithDefaults()
	if d.Name != "WTB_EVENTS" || d.SubjectPrefix != "wtb.events" || d.Replicas != 1 || d.MaxAge != 7*24*time.Hour ||
		d.MaxBytes != 10<<30 || d.MaxMsgs != 50_000_000 || d.Duplicates != 2*time.Minute {
		t.Errorf("defaults %+v", d)
	}
	for _, bad := range []jetstream.StreamConfig{
		{Name: "A.B"}, {Replicas: 7}, {SubjectPrefix: "wtb.*"}, {SubjectPrefix: "wtb."}, {MaxAge: time.Minute, Duplicates: time.Hour},
	} {
		if err := bad.WithDefaults().Validate(); !errors.Is(err, jetstream.ErrConfig) {
			t.Errorf("%+v: Validate = %v, want ErrConfig", bad, err)
		}
	}
}

// Events published (one at a time and in batches) are recorded once each
// by a consumer, acknowledged, and so removed from the work-queue stream;
// publishing them again is dropped by the stream's deduplication.
func TestPublishAndConsume(t *testing.T) {
	srv := jstest.Start(t)
	nc := connect(t, srv.URL())
	cfg := testStream(t)
	ctx := context.Background()
	pub, err := jetstream.NewPublisher(nc, jetstream.PublisherOptions{Logger: quiet, SubjectPrefix: cfg.SubjectPrefix})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := njs.New(nc)
	if _, err := jetstream.EnsureStream(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}
	evs := events("pc", 2000)
	if err := pub.Publish(ctx, evs[0]); err != nil {
		t.Fatal(err)
	}
	if n, err := pub.PublishBatch(ctx, evs[1:]); err != nil || n != len(evs)-1 {
		t.Fatalf("PublishBatch = %d, %v", n, err)
	}
	if n, err := pub.PublishBatch(ctx, evs[:100]); err != nil || n != 100 {
		t.Fatalf("PublishBatch again = %d, %v", n, err)
	}
	if got := streamInfo(t, nc, cfg.Name).State.Msgs; got != uint64(len(evs)) {
		t.Fatalf("stream holds %d messages, want %d (a repeated event id must be dropped)", got, len(evs))
	}

	rec, st := recorder(t)
	c := startConsumer(t, nc, rec, jetstream.ConsumerOptions{Stream: cfg})
	waitRecorded(t, st, int64(len(evs)), 90*time.Second)
	checkLog(t, st, evs)
	deadline := time.Now().Add(60 * time.Second) // the embedded server runs race-instrumented
	for streamInfo(t, nc, cfg.Name).State.Msgs != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stream still holds %d messages: not all acknowledged", streamInfo(t, nc, cfg.Name).State.Msgs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s := c.Stats(); s.Acked != uint64(len(evs)) || s.Invalid != 0 || s.Failed != 0 {
		t.Errorf("stats %+v", s)
	}
}

// A message that is not a wtb event is terminated (not redelivered) and
// the events around it are recorded.
func TestConsumeInvalidMessage(t *testing.T) {
	srv := jstest.Start(t)
	nc := connect(t, srv.URL())
	cfg := testStream(t)
	ctx := context.Background()
	js, _ := njs.New(nc)
	if _, err := jetstream.EnsureStream(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}
	pub, _ := jetstream.NewPublisher(nc, jetstream.PublisherOptions{Logger: quiet, SubjectPrefix: cfg.SubjectPrefix})
	evs := events("inv", 10)
	if _, err := pub.PublishBatch(ctx, evs[:5]); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, cfg.SubjectPrefix+".node.junk", []byte(`{"not":"an event"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.PublishBatch(ctx, evs[5:]); err != nil {
		t.Fatal(err)
	}
	rec, st := recorder(t)
	c := startConsumer(t, nc, rec, jetstream.ConsumerOptions{Stream: cfg})
	waitRecorded(t, st, 10, 90*time.Second)
	checkLog(t, st, evs)
	deadline := time.Now().Add(60 * time.Second) // the embedded server runs race-instrumented
	for c.Stats().Invalid != 1 || streamInfo(t, nc, cfg.Name).State.Msgs != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v, stream %d messages: want 1 invalid, terminated", c.Stats(), streamInfo(t, nc, cfg.Name).State.Msgs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// While NATS is down, a publish retries and then fails with a clear error
// wrapping ErrNotAcknowledged.
func TestPublishWhileNATSDown(t *testing.T) {
	srv := jstest.Start(t)
	nc := connect(t, srv.URL())
	cfg := testStream(t)
	js, _ := njs.New(nc)
	if _, err := jetstream.EnsureStream(context.Background(), js, cfg); err != nil {
		t.Fatal(err)
	}
	pub, _ := jetstream.NewPublisher(nc, jetstream.PublisherOptions{Logger: quiet, SubjectPrefix: cfg.SubjectPrefix,
		RetryFor: 1500 * time.Millisecond, RetryBackoff: 50 * time.Millisecond, AckTimeout: 200 * time.Millisecond})
	srv.Stop()
	start := time.Now()
	err := pub.Publish(context.Background(), events("down", 1)[0])
	if !errors.Is(err, jetstream.ErrNotAcknowledged) {
		t.Fatalf("Publish = %v, want ErrNotAcknowledged", err)
	}
	if el := time.Since(start); el < time.Second || el > 10*time.Second {
		t.Errorf("gave up after %s, want about RetryFor (1.5s)", el)
	}
	t.Logf("error: %v", err)
}

// The server restarts in the middle of a stream of publishes, with a
// consumer recording: every publish eventually returns acknowledged, and
// every acknowledged event is recorded once, seqs strictly increasing.
func TestNATSRestartMidPublish(t *testing.T) {
	srv := jstest.Start(t)
	nc := connect(t, srv.URL())
	cfg := testStream(t)
	pub, _ := jetstream.NewPublisher(nc, jetstream.PublisherOptions{Logger: quiet, SubjectPrefix: cfg.SubjectPrefix,
		RetryFor: 60 * time.Second, RetryBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, AckTimeout: time.Second})
	js, _ := njs.New(nc)
	if _, err := jetstream.EnsureStream(context.Background(), js, cfg); err != nil {
		t.Fatal(err)
	}
	rec, st := recorder(t)
	startConsumer(t, connect(t, srv.URL()), rec, jetstream.ConsumerOptions{Stream: cfg, AckWait: 2 * time.Second})

	const batches, per = 40, 250
	var (
		mu    sync.Mutex
		acked []event.Event
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	published := make(chan int, batches)
	errc := make(chan error, 1)
	go func() {
		for b := range batches {
			evs := events(fmt.Sprintf("rs%02d", b), per)
			if _, err := pub.PublishBatch(ctx, evs); err != nil {
				errc <- fmt.Errorf("batch %d: %w", b, err)
				return
			}
			mu.Lock()
			acked = append(acked, evs...)
			mu.Unlock()
			published <- b
		}
		errc <- nil
	}()
	for b := range published {
		if b == 10 {
			srv.Restart(500 * time.Millisecond)
			break
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	waitRecorded(t, st, batches*per, 60*time.Second)
	checkLog(t, st, acked)
}

// The bus bridge publishes every event of the bus; enabling and disabling
// it again and again never adds a second subscription.
func TestBridge(t *testing.T) {
	srv := jstest.Start(t)
	nc := connect(t, srv.URL())
	cfg := testStream(t)
	js, _ := njs.New(nc)
	if _, err := jetstream.EnsureStream(context.Background(), js, cfg); err != nil {
		t.Fatal(err)
	}
	pub, _ := jetstream.NewPublisher(nc, jetstream.PublisherOptions{Logger: quiet, SubjectPrefix: cfg.SubjectPrefix})
	b := bus.New()
	br := jetstream.NewBridge(b, pub)
	for range 1000 {
		if err := br.Enable(); err != nil {
			t.Fatal(err)
		}
		if err := br.Disable(); err != nil {
			t.Fatal(err)
		}
	}
	if err := br.Enable(); err != nil {
		t.Fatal(err)
	}
	if err := br.Enable(); err != nil {
		t.Fatal(err)
	}
	evs := events("br", 50)
	for _, ev := range evs {
		if err := b.Publish(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	// bus.Publish returned for each: each is acknowledged, exactly once.
	if got := streamInfo(t, nc, cfg.Name).State.Msgs; got != 50 {
		t.Fatalf("stream holds %d messages, want 50", got)
	}
	_ = br.Disable()
	if err := b.Publish(context.Background(), events("off", 1)[0]); err != nil {
		t.Fatal(err)
	}
	if got := streamInfo(t, nc, cfg.Name).State.Msgs; got != 50 {
		t.Fatalf("a disabled bridge published: %d messages", got)
	}
	rec, st := recorder(t)
	startConsumer(t, nc, rec, jetstream.ConsumerOptions{Stream: cfg})
	waitRecorded(t, st, 50, 90*time.Second)
	checkLog(t, st, evs)
}

// Against the machine's NATS server (127.0.0.1:4222), with a stream of the
// test's own, deleted at the end.
func TestRealNATS(t *testing.T) {
	url := jstest.RealURL(t)
	nc := connect(t, url)
	cfg := testStream(t)
	js, _ := njs.New(nc)
	ctx := context.Background()
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), cfg.Name) })
	if _, err := jetstream.EnsureStream(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}
	pub, _ := jetstream.NewPublisher(nc, jetstream.PublisherOptions{Logger: quiet, SubjectPrefix: cfg.SubjectPrefix})
	evs := events("real", 3000)
	if n, err := pub.PublishBatch(ctx, evs); err != nil || n != len(evs) {
		t.Fatalf("PublishBatch = %d, %v", n, err)
	}
	rec, st := recorder(t)
	// Two instances share the durable consumer.
	startConsumer(t, nc, rec, jetstream.ConsumerOptions{Stream: cfg, Durable: "test"})
	startConsumer(t, connect(t, url), rec, jetstream.ConsumerOptions{Stream: cfg, Durable: "test"})
	waitRecorded(t, st, int64(len(evs)), 90*time.Second)
	checkLog(t, st, evs)
}

// A full stream refuses new events (discard new: nothing accepted is
// dropped to make room); the publisher says so and gives up after
// RetryFor, having kept what was acknowledged.
func TestPublishStreamFull(t *testing.T) {
	srv := jstest.Start(t)
	nc := connect(t, srv.URL())
	cfg := testStream(t)
	cfg.MaxMsgs = 10
	js, _ := njs.New(nc)
	if _, err := jetstream.EnsureStream(context.Background(), js, cfg); err != nil {
		t.Fatal(err)
	}
	pub, _ := jetstream.NewPublisher(nc, jetstream.PublisherOptions{Logger: quiet, SubjectPrefix: cfg.SubjectPrefix,
		RetryFor: 500 * time.Millisecond, RetryBackoff: 50 * time.Millisecond})
	n, err := pub.PublishBatch(context.Background(), events("full", 15))
	if n != 10 || !errors.Is(err, jetstream.ErrNotAcknowledged) || !strings.Contains(err.Error(), "stream full") {
		t.Fatalf("PublishBatch = %d, %v; want 10 acknowledged and a stream full error", n, err)
	}
	if got := streamInfo(t, nc, cfg.Name).State.Msgs; got != 10 {
		t.Fatalf("stream holds %d, want the first 10", got)
	}
}

package bus_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder is a slog.Handler that keeps every record for inspection.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// all returns the recorded records as message plus attributes.
func (r *recorder) all() []logLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]logLine, 0, len(r.records))
	for _, rec := range r.records {
		l := logLine{Level: rec.Level, Msg: rec.Message, Attrs: map[string]string{}}
		rec.Attrs(func(a slog.Attr) bool {
			l.Attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, l)
	}
	return out
}

type logLine struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func newLogger() (*slog.Logger, *recorder) {
	r := &recorder{}
	return slog.New(r), r
}

// trace collects strings in order, safe for concurrent use.
type trace struct {
	mu  sync.Mutex
	got []string
}

func (t *trace) add(s string) {
	t.mu.Lock()
	t.got = append(t.got, s)
	t.mu.Unlock()
}

func (t *trace) list() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.got...)
}

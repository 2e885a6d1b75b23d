package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestParseStream(t *testing.T) {
	defer goleak.VerifyNone(t)
	const n = 5500
	good := genLines(t, "ps", n, 10)
	lines, badAt := withBadLines(good, 700)
	input := strings.Join(lines, "\n") + "\n"

	t.Run("order and content", func(t *testing.T) {
		var ids []string
		var bad []int
		var lastBytes int64
		total := 0
		err := parseStream(context.Background(), strings.NewReader(input), true, func(c *chunk) error {
			if c.lines > chunkLines {
				t.Errorf("chunk of %d lines", c.lines)
			}
			if c.bytes <= lastBytes {
				t.Errorf("chunk ends at byte %d after %d", c.bytes, lastBytes)
			}
			lastBytes = c.bytes
			total += c.lines
			for _, e := range c.entries {
				ids = append(ids, e.EventID)
			}
			for _, b := range c.bad {
				bad = append(bad, b.num)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if total != len(lines) || lastBytes != int64(len(input)) {
			t.Fatalf("%d lines and %d bytes, want %d and %d", total, lastBytes, len(lines), len(input))
		}
		if len(ids) != n {
			t.Fatalf("%d entries, want %d", len(ids), n)
		}
		for i, id := range ids {
			if want := genEvent("ps", i, 10).EventID(); id != want {
				t.Fatalf("entry %d is %s, want %s: out of order", i, id, want)
			}
		}
		if len(bad) != len(badAt) {
			t.Fatalf("%d bad lines, want %d", len(bad), len(badAt))
		}
		for i, num := range bad {
			if _, ok := badAt[num]; !ok || (i > 0 && num <= bad[i-1]) {
				t.Fatalf("bad lines %v, want the keys of %v in order", bad, badAt)
			}
		}
	})

	t.Run("without entries", func(t *testing.T) {
		err := parseStream(context.Background(), strings.NewReader(input), false, func(c *chunk) error {
			if len(c.entries) != 0 {
				t.Fatalf("chunk holds %d entries", len(c.entries))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("consumer error stops", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := parseStream(context.Background(), strings.NewReader(input), true, func(*chunk) error {
			calls++
			if calls == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 2 {
			t.Fatalf("error %v after %d calls, want stop after 2", err, calls)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		err := parseStream(ctx, strings.NewReader(input), true, func(*chunk) error {
			calls++
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) || calls >= (len(lines)+chunkLines-1)/chunkLines {
			t.Fatalf("error %v after %d calls, want context.Canceled before the end", err, calls)
		}
	})

	t.Run("read error", func(t *testing.T) {
		boom := errors.New("disk on fire")
		r := &failingReader{data: bytes.NewReader([]byte(input[:len(input)/2])), err: boom}
		err := parseStream(context.Background(), r, true, func(*chunk) error { return nil })
		if !errors.Is(err, boom) {
			t.Fatalf("error %v, want the read error", err)
		}
	})
}

// failingReader returns data, then err instead of io.EOF.
type failingReader struct {
	data *bytes.Reader
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	n, _ := r.data.Read(p)
	if n == 0 {
		return 0, r.err
	}
	return n, nil
}

package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestModes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service")
	}
	tests := []struct {
		name string
		args []string
		want *regexp.Regexp
	}{
		{"ingest", []string{"ingest", "--clients", "3", "--batch", "10", "--events", "300", "--duration", "30s"},
			regexp.MustCompile(`ingest: 3 clients x 10 events/request: 300 events acknowledged durable .* 0 duplicates, 0 failed requests`)},
		{"single", []string{"single", "--clients", "4", "--events", "40", "--duration", "30s"},
			regexp.MustCompile(`single: 4 clients x 1 events/request: 40 requests acknowledged durable .* 0 failed requests`)},
		{"sse", []string{"sse", "--sse-clients", "5", "--rate", "400", "--clients", "2", "--batch", "20", "--duration", "1s"},
			regexp.MustCompile(`sse: 5 of 5 clients received all (\d+) entries .* in order; 0 incomplete`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), tc.args, &out); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			m := tc.want.FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("output does not match %s:\n%s", tc.want, out.String())
			}
			if tc.name == "sse" {
				// The markers and at least one batch were delivered.
				if n, _ := strconv.Atoi(m[1]); n < 21 {
					t.Fatalf("only %d entries followed", n)
				}
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"ingest", "--url", "http://10.1.2.3:8420"}, "only loopback"},
		{[]string{"ingest", "--url", "ftp://127.0.0.1"}, "want http://"},
		{[]string{"ingest", "--duration", "10m"}, "--duration"},
		{[]string{"ingest", "--events", "0"}, "--events"},
		{[]string{"single", "--clients", "5000"}, "--clients"},
		{[]string{"sse", "--rate", "0"}, "--rate"},
		{[]string{"sse", "--sse-clients", "100000"}, "--sse-clients"},
		{[]string{"bogus"}, "unknown mode"},
	}
	for _, tc := range tests {
		err := run(context.Background(), tc.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error about %s", tc.args, err, tc.want)
		}
	}
}

func TestScan(t *testing.T) {
	entry := func(seq int) string {
		return "id: " + strconv.Itoa(seq) + "\nevent: entry\ndata: {\"seq\":" + strconv.Itoa(seq) + ",\"message\":\"a\\nb\"}\n\n"
	}
	hello := "retry: 1000\n: connected\n\n"
	tests := []struct {
		name    string
		in      string
		until   int64
		seqs    []int64 // the seqs counted, in order
		used    int     // -1: all of in
		reached bool
		err     string
	}{
		{"entries", hello + entry(11) + entry(12) + ": heartbeat\n\n" + entry(15), 0, []int64{11, 12, 15}, -1, false, ""},
		{"partial id line", entry(11) + "id: 1", 0, []int64{11}, len(entry(11)), false, ""},
		{"partial data line", entry(11) + entry(12)[:30], 0, []int64{11}, len(entry(11)), false, ""},
		{"partial blank line", entry(11) + strings.TrimSuffix(entry(12), "\n"), 0, []int64{11}, len(entry(11)), false, ""},
		{"other line after data", "id: 11\nevent: entry\ndata: {}\nretry: 5\n\n" + entry(12), 0, []int64{11, 12}, -1, false, ""},
		{"id only", "id: 11\n\n" + entry(12), 0, []int64{11, 12}, -1, false, ""},
		{"until", entry(11) + entry(12) + entry(13), 12, []int64{11, 12}, len(entry(11) + entry(12)), true, ""},
		{"out of order", entry(11) + entry(11), 0, []int64{11}, len(entry(11)), false, "out of order"},
		{"not after the start", entry(10), 0, nil, 0, false, "out of order"},
		{"unreadable", "id: x1\n\n", 0, nil, 0, false, "unreadable"},
		{"too long", "id: 1234567890123456789\n\n", 0, nil, 0, false, "unreadable"},
		{"error event", entry(11) + "event: error\ndata: {\"code\":\"slow_consumer\"}\n\n", 0, []int64{11}, len(entry(11)), false, "slow_consumer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &follower{seq: 10, hash: fnvOffset}
			used, reached, err := f.scan([]byte(tc.in), tc.until)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			want := tc.used
			if want < 0 {
				want = len(tc.in)
			}
			h := uint64(fnvOffset)
			for _, s := range tc.seqs {
				h = hashSeq(h, s)
			}
			if used != want || reached != tc.reached || f.count != int64(len(tc.seqs)) || f.hash != h {
				t.Fatalf("used %d reached %v count %d, want %d %v %d (hash match %v)",
					used, reached, f.count, want, tc.reached, len(tc.seqs), f.hash == h)
			}
		})
	}
	// The hash is order-sensitive.
	if hashSeq(hashSeq(fnvOffset, 1), 2) == hashSeq(hashSeq(fnvOffset, 2), 1) {
		t.Fatal("hash ignores the order")
	}
}

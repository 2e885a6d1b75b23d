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

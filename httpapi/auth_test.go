package httpapi

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testTokens = `# wtb tokens
reader-token   read
ingester-token ingest

both-token ingest,read
`

func TestParseTokens(t *testing.T) {
	tests := []struct {
		name, text string
		n          int
		wantErr    string
	}{
		{"good", testTokens, 3, ""},
		{"only comments", "# nothing\n\n", 0, "no tokens"},
		{"no scopes", "tok\n", 0, "line 1"},
		{"unknown scope", "# c\ntok read,admin\n", 0, "line 2: unknown scope \"admin\""},
		{"three fields", "tok read extra\n", 0, "line 1"},
		{"repeated", "tok read\ntok ingest\n", 0, "line 2: token repeated"},
		{"long line", "tok " + strings.Repeat("r", MaxTokenLine) + "\n", 0, "line 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk, err := ParseTokens(strings.NewReader(tc.text))
			if tc.wantErr != "" {
				if !errors.Is(err, ErrBadTokens) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want ErrBadTokens with %q", err, tc.wantErr)
				}
				if err != nil && strings.Contains(err.Error(), "tok ") {
					t.Fatalf("error shows the token: %v", err)
				}
				return
			}
			if err != nil || tk.Len() != tc.n {
				t.Fatalf("ParseTokens: %d tokens, %v; want %d", tk.Len(), err, tc.n)
			}
		})
	}
	if _, err := LoadTokens(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, ErrBadTokens) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestAuth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(testTokens), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, Options{Tokens: tokens})
	body := encode(t, nodeStarted("auth", "n"))
	tests := []struct {
		name, method, path, auth string
		status                   int
	}{
		{"ingest without token", "POST", "/v1/events", "", 401},
		{"ingest with wrong token", "POST", "/v1/events", "Bearer nope", 401},
		{"ingest with basic auth", "POST", "/v1/events", "Basic cmVhZGVyLXRva2Vu", 401},
		{"ingest with read token", "POST", "/v1/events", "Bearer reader-token", 403},
		{"ingest with ingest token", "POST", "/v1/events", "Bearer ingester-token", 200},
		{"ingest with both", "POST", "/v1/events", "bearer both-token", 200},
		{"query without token", "GET", "/v1/audit", "", 401},
		{"query with ingest token", "GET", "/v1/audit", "Bearer ingester-token", 403},
		{"query with read token", "GET", "/v1/audit", "Bearer reader-token", 200},
		{"executions with read token", "GET", "/v1/executions", "Bearer reader-token", 200},
		{"stream without token", "GET", "/v1/stream?topic=audit:*", "", 401},
		{"stream with ingest token", "GET", "/v1/stream?topic=audit:*", "Bearer ingester-token", 403},
		{"ws without token", "GET", "/v1/ws", "", 401},
		{"metrics without token", "GET", "/metrics", "", 401},
		{"metrics with read token", "GET", "/metrics", "Bearer reader-token", 200},
		{"healthz open", "GET", "/healthz", "", 200},
		{"readyz open", "GET", "/readyz", "", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.auth != "" {
				hdr = []string{"Authorization", tc.auth}
			}
			var b []byte
			ct := ""
			if tc.method == "POST" {
				b, ct = body, MediaJSON
			}
			r := env.do(tc.method, tc.path, ct, b, hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			switch tc.status {
			case 401:
				if parseError(t, r).Error.Code != CodeUnauthorized || r.header.Get("WWW-Authenticate") == "" {
					t.Fatalf("401 answer: %v %s", r.header, r.body)
				}
			case 403:
				if parseError(t, r).Error.Code != CodeForbidden {
					t.Fatalf("403 answer: %s", r.body)
				}
			}
		})
	}
}

func TestCheckListenAddr(t *testing.T) {
	tokens, err := ParseTokens(strings.NewReader(testTokens))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr     string
		tokens   *Tokens
		insecure bool
	}{
		{"127.0.0.1:8420", nil, false},
		{"127.0.0.2:8420", nil, false},
		{"localhost:8420", nil, false},
		{"[::1]:8420", nil, false},
		{"0.0.0.0:8420", nil, true},
		{":8420", nil, true},
		{"10.1.2.3:80", nil, true},
		{"[::]:8420", nil, true},
		{"example.com:80", nil, true},
		{"0.0.0.0:8420", tokens, false},
		{":8420", tokens, false},
	}
	for _, tc := range tests {
		err := CheckListenAddr(tc.addr, tc.tokens)
		if got := errors.Is(err, ErrInsecureListen); got != tc.insecure {
			t.Errorf("%s (tokens %d): %v", tc.addr, tc.tokens.Len(), err)
		}
		if tc.insecure && !strings.Contains(err.Error(), "--tokens") {
			t.Errorf("%s: message does not say how to fix it: %v", tc.addr, err)
		}
	}
	if err := CheckListenAddr("no-port", nil); err == nil || errors.Is(err, ErrInsecureListen) {
		t.Errorf("no-port: %v", err)
	}
}

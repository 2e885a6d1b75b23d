package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/event"
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

// openRoutes are the routes that need no token. A route missing from
// this list must refuse requests without the right token.
var openRoutes = map[string]bool{
	"GET /healthz":         true,
	"GET /readyz":          true,
	"GET /v1/openapi.json": true,
}

// The authorization table is generated from the router's own route list:
// every route gets its cases without a token, with a bad token (a prefix
// or an extension of a real one too), with a token lacking the scope, and
// its allowed case (the route's sample).
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
	seedSample(t, env, "Bearer both-token")
	scoped := map[Scope]string{ScopeIngest: "ingester-token", ScopeRead: "reader-token"}
	other := map[Scope]string{ScopeIngest: "reader-token", ScopeRead: "ingester-token"}
	seen := map[string]bool{}
	for _, rt := range Routes() {
		seen[rt.Pattern()] = true
		if rt.Scope == "" {
			if !openRoutes[rt.Pattern()] {
				t.Errorf("%s needs no token but is not in openRoutes", rt.Pattern())
			}
			t.Run(rt.Pattern()+" open", func(t *testing.T) {
				checkStatus(t, env, rt, "", rt.SuccessStatus())
			})
			continue
		}
		if openRoutes[rt.Pattern()] {
			t.Errorf("%s is in openRoutes but needs scope %s", rt.Pattern(), rt.Scope)
		}
		good := scoped[rt.Scope]
		if good == "" {
			t.Fatalf("%s: scope %q has no test token", rt.Pattern(), rt.Scope)
		}
		cases := []struct {
			name, auth string
			status     int
		}{
			{"no token", "", 401},
			{"unknown token", "Bearer nope", 401},
			{"empty bearer", "Bearer ", 401},
			{"basic auth", "Basic " + base64.StdEncoding.EncodeToString([]byte(good+":")), 401},
			{"token prefix", "Bearer " + good[:len(good)-1], 401},
			{"token extended", "Bearer " + good + "x", 401},
			{"token upper case", "Bearer " + strings.ToUpper(good), 401},
			{"token as query", "query:access_token=" + good, 401},
			{"token lacking the scope", "Bearer " + other[rt.Scope], 403},
			{"token with the scope", "Bearer " + good, rt.SuccessStatus()},
			{"token with both scopes", "bearer both-token", rt.SuccessStatus()},
		}
		for _, tc := range cases {
			t.Run(rt.Pattern()+" "+tc.name, func(t *testing.T) {
				checkStatus(t, env, rt, tc.auth, tc.status)
			})
		}
	}
	for p := range openRoutes {
		if !seen[p] {
			t.Errorf("openRoutes lists %s, which is not a route", p)
		}
	}
}

// seedSample records the events the routes' samples refer to.
func seedSample(t *testing.T, env *testEnv, auth string) {
	t.Helper()
	evs := []event.Event{execStarted(SampleExecution), nodeStarted(SampleExecution, "n1")}
	r := env.post(MediaJSON, jsonArray(t, evs), "Authorization", auth)
	if r.status != 200 {
		t.Fatalf("seeding: %d %s", r.status, r.body)
	}
	signCheckpoint(t, env.store) // for the ledger's routes
}

// checkStatus sends the route's sample with the Authorization header auth
// and checks the answer's status (and its error body).
func checkStatus(t *testing.T, env *testEnv, rt Route, auth string, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var body io.Reader
	if rt.Sample.Body != "" {
		body = strings.NewReader(rt.Sample.Body)
	}
	u := env.ts.URL + rt.SamplePath()
	if q, ok := strings.CutPrefix(auth, "query:"); ok {
		auth = ""
		if strings.Contains(u, "?") {
			u += "&" + q
		} else {
			u += "?" + q
		}
	}
	req, err := http.NewRequestWithContext(ctx, rt.Method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if rt.Sample.ContentType != "" {
		req.Header.Set("Content-Type", rt.Sample.ContentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if rt.OK == http.StatusSwitchingProtocols {
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")))
	}
	res, err := env.streamClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		var b []byte
		if res.StatusCode >= 400 { // a stream's body does not end
			b, _ = io.ReadAll(io.LimitReader(res.Body, 4096))
		}
		t.Fatalf("status %d, want %d: %s", res.StatusCode, want, b)
	}
	if want < 400 {
		return
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	eb := parseError(t, response{status: res.StatusCode, header: res.Header, body: b})
	switch want {
	case 401:
		if eb.Error.Code != CodeUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("401 answer: %v %s", res.Header, b)
		}
	case 403:
		if eb.Error.Code != CodeForbidden {
			t.Fatalf("403 answer: %s", b)
		}
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

// A tokens file other users of the machine may read is refused, saying
// how to fix it.
func TestLoadTokensMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	path := filepath.Join(t.TempDir(), "tokens")
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o700 | 0o002} {
		if err := os.WriteFile(path, []byte(testTokens), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadTokens(path)
		if !errors.Is(err, ErrTokensFileMode) || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTokens(path); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
}

// /readyz tells an open probe ready or not, and the store's error only to
// a caller with the read scope.
func TestReadyzErrorText(t *testing.T) {
	tokens, err := ParseTokens(strings.NewReader(testTokens))
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, Options{Tokens: tokens})
	if r := env.get("/readyz"); r.status != 200 || !strings.Contains(string(r.body), "ready") {
		t.Fatalf("readyz: %d %s", r.status, r.body)
	}
	if err := env.store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"", "Bearer ingester-token", "Bearer nope"} {
		r := env.get("/readyz", "Authorization", auth)
		eb := parseError(t, r)
		if r.status != 503 || !strings.HasPrefix(eb.Error.Message, "not ready") || strings.Contains(eb.Error.Message, "closed") {
			t.Errorf("readyz (%q) with a closed store: %d %s", auth, r.status, r.body)
		}
	}
	r := env.get("/readyz", "Authorization", "Bearer reader-token")
	if eb := parseError(t, r); r.status != 503 || !strings.Contains(eb.Error.Message, "closed") {
		t.Errorf("readyz with the read scope: %d %s, want the store's error", r.status, r.body)
	}
}

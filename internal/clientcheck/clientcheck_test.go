package clientcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	src := `package x

import (
	"net/http"
	"time"
)

type env struct{ client, streamClient *http.Client }

func f() {
	_, _ = http.Get("http://x")                            // bad
	_ = http.DefaultClient                                 // bad
	_ = &http.Client{}                                     // bad
	_ = &http.Client{Timeout: time.Second}                 // fine
	streamClient := &http.Client{}                         // fine
	_ = env{streamClient: &http.Client{}, client: streamClient} // fine
	_ = http.Client{Transport: nil}                        // bad
}
`
	if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{":11:", ":12:", ":13:", ":17:"}
	if len(got) != len(want) {
		t.Fatalf("findings:\n%s\nwant lines %v", strings.Join(got, "\n"), want)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("finding %d: %s, want line %s", i, got[i], w)
		}
	}
}

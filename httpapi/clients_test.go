package httpapi

import (
	"strings"
	"testing"

	"github.com/wtbdev/wtb/internal/clientcheck"
)

// Every HTTP client of this package's tests has a timeout, so that a
// broken stream fails its test instead of hanging the suite.
func TestClientsHaveTimeouts(t *testing.T) {
	found, err := clientcheck.Check(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Fatalf("requests without a bound:\n%s", strings.Join(found, "\n"))
	}
}

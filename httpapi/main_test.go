package httpapi

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: stream
// writers, hub and recorder goroutines must all end with their server.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

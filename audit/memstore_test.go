package audit_test

import (
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/audit/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) audit.Store { return audit.NewMemoryStore() })
}

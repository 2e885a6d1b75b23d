package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestSynchronousReadBack reads PRAGMA synchronous back from the write
// connection and the checkpointer's connection: 1 (NORMAL) for SyncNormal,
// 2 (FULL) for SyncFull, on every driver of the build.
func TestSynchronousReadBack(t *testing.T) {
	ctx := context.Background()
	for _, d := range testDrivers() {
		for _, tc := range []struct {
			sync Sync
			want int
		}{{SyncNormal, 1}, {SyncFull, 2}} {
			t.Run(string(d)+"/"+tc.sync.String(), func(t *testing.T) {
				s, err := Open(ctx, filepath.Join(t.TempDir(), "wtb.db"), Options{Driver: d, Sync: tc.sync})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				var got int
				if err := s.writer.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("write connection: synchronous = %d, want %d", got, tc.want)
				}
				if err := s.cdb.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("checkpoint connection: synchronous = %d, want %d", got, tc.want)
				}
			})
		}
	}
}

// testDrivers are the drivers of this build.
func testDrivers() []Driver {
	if DefaultDriver == DriverPure {
		return []Driver{DriverPure}
	}
	return []Driver{DriverCgo, DriverPure}
}

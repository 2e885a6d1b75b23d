//go:build !cgo

package sqlite_test

import "github.com/wtbdev/wtb/sqlite"

// drivers are the drivers this build has: without cgo, only the pure Go
// one (CI runs the suite so too).
var drivers = []sqlite.Driver{sqlite.DriverPure}

//go:build cgo

package sqlite_test

import "github.com/wtbdev/wtb/sqlite"

// drivers are the drivers this build has: both with cgo.
var drivers = []sqlite.Driver{sqlite.DriverCgo, sqlite.DriverPure}

//go:build !race

package sqlite_test

// raceEnabled reports a -race build.
const raceEnabled = false

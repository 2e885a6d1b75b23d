//go:build cgo

package sqlite

// DefaultDriver is the driver used when Options.Driver is empty: DriverCgo
// in builds with cgo (the faster one), DriverPure otherwise.
const DefaultDriver = DriverCgo

package main

import (
	"fmt"
	"math"
	"strconv"

	"github.com/dustin/go-humanize"
	"github.com/spf13/pflag"
)

// byteSize is a flag value holding a number of bytes, written as a plain
// number or with a unit: SI (10kB, 10MB, 1.5GB: powers of 1000) or IEC
// (64KiB, 8MiB, 1GiB: powers of 1024), case and a space ignored. Parsing is
// go-humanize's ParseBytes.
type byteSize[T int | int64] struct{ p *T }

// sizeVar defines a byte-size flag with a default value.
func sizeVar[T int | int64](f *pflag.FlagSet, p *T, name string, def T, usage string) {
	*p = def
	f.Var(byteSize[T]{p}, name, usage+" (a number of bytes, or with a unit: 512KiB, 8MiB, 10MB)")
}

// String writes the size exactly, in the largest IEC unit that divides it.
func (b byteSize[T]) String() string {
	if b.p == nil {
		return "0"
	}
	return formatSize(int64(*b.p))
}

// Set parses a size.
func (b byteSize[T]) Set(s string) error {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return fmt.Errorf("%q is not a size: want a number of bytes or one with a unit (512KiB, 8MiB, 10MB)", s)
	}
	var max uint64 = math.MaxInt64
	if _, isInt := any(*b.p).(int); isInt {
		max = math.MaxInt
	}
	if n > max {
		return fmt.Errorf("%q is too large", s)
	}
	*b.p = T(n)
	return nil
}

// Type names the flag's kind in --help.
func (b byteSize[T]) Type() string { return "size" }

// formatSize writes n bytes exactly: "8MiB", "64KiB", "1000".
func formatSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestByteSizeFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20}, {"10MB", 10_000_000}, {"10mb", 10_000_000}, {"10 MB", 10_000_000},
		{"8MiB", 8 << 20}, {"512KiB", 512 << 10}, {"1.5GB", 1_500_000_000}, {"2GiB", 2 << 30}, {"100kB", 100_000},
	} {
		var n int64
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		sizeVar(fs, &n, "size", 1, "a size")
		if err := fs.Parse([]string{"--size", tc.in}); err != nil || n != tc.want {
			t.Errorf("--size %s = %d, %v; want %d", tc.in, n, err, tc.want)
		}
	}
	for _, bad := range []string{"ten", "-5", "10XB", "99999999999999999999"} {
		var n int
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		sizeVar(fs, &n, "size", 1, "a size")
		if err := fs.Parse([]string{"--size", bad}); err == nil {
			t.Errorf("--size %s accepted as %d", bad, n)
		}
	}
	// The default, as --help shows it, reads back exactly.
	for _, v := range []int64{8 << 20, 128 << 10, 1000, 3 << 30, 1536} {
		var n int64
		s := byteSize[int64]{&n}
		if err := s.Set(formatSize(v)); err != nil || n != v {
			t.Errorf("formatSize(%d) = %q reads back as %d, %v", v, formatSize(v), n, err)
		}
	}
}

// TestServeSizesAndEnvironmentErrors: serve's size flags accept units, and
// a bad environment value is named as an environment variable.
func TestServeSizesAndEnvironmentErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--max-body", "lots"}, `invalid argument "lots" for "--max-body" flag`},
		{map[string]string{envMaxBody: "lots"}, nil, `environment variable WTB_MAX_BODY="lots": want a size in bytes, with or without a unit such as 8MiB (as --max-body takes)`},
		{map[string]string{envHeartbeat: "often"}, nil, `environment variable WTB_HEARTBEAT="often": want a duration such as`},
		{map[string]string{envSync: "sometimes"}, nil, `environment variable WTB_SYNC="sometimes": want normal or full`},
	} {
		for _, k := range []string{envDB, envStore, envSync, envMaxBody, envHeartbeat} {
			t.Setenv(k, tc.env[k])
		}
		r := runEnv(t, "", append([]string{"serve", "--addr", "127.0.0.1:0", "--db", tempDB(t)}, tc.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("serve %v with %v: exit %d, stderr %q; want %d and %q", tc.args, tc.env, r.code, r.stderr, exitUsage, tc.want)
		}
	}
	// 10MB is accepted: serve gets as far as checking the next flag.
	r := run(t, "", "serve", "--addr", "127.0.0.1:0", "--db", tempDB(t), "--max-body", "10MB", "--max-batch", "0")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--max-batch must be positive") {
		t.Errorf("--max-body 10MB: exit %d, stderr %q", r.code, r.stderr)
	}
}

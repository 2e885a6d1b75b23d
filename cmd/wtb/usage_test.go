package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"debug/buildinfo"

	"github.com/spf13/cobra"
)

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "a command is needed: audit, "},
		{"unknown command", []string{"nosuch"}, `unknown command "nosuch" (commands: audit, `},
		{"misspelt command", []string{"demoo"}, `did you mean "demo"?`},
		{"group without command", []string{"audit"}, "audit needs a command: diff, export, list, prune, redact, show, summary, tail, verify"},
		{"unknown subcommand", []string{"audit", "nosuch"}, `unknown command "nosuch" for audit`},
		{"misspelt subcommand", []string{"audit", "shwo"}, `did you mean "show"?`},
		{"unknown flag", []string{"audit", "list", "--bogus"}, "unknown flag: --bogus"},
		{"missing argument", []string{"audit", "show"}, "audit show needs an execution id"},
		{"extra argument", []string{"version", "x"}, "version takes no arguments"},
		{"help of an unknown command", []string{"help", "nosuch"}, `unknown command "nosuch" (commands: audit, `},
		{"help of an unknown subcommand", []string{"help", "audit", "nosuch"}, `unknown command "nosuch" for audit`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "", tc.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d (stderr %q)", r.code, exitUsage, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "wtb: ") || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q: want one line wtb: ...%s", r.stderr, tc.want)
			}
		})
	}
}

func TestHelpOfACommand(t *testing.T) {
	r := mustRun(t, "", "help", "audit", "show")
	if !strings.Contains(r.stdout, "wtb audit show") {
		t.Fatalf("help audit show:\n%s", r.stdout)
	}
}

func TestHelpStatesExitCodes(t *testing.T) {
	r := mustRun(t, "", "--help")
	if !strings.Contains(r.stdout, "Exit status: 0 success, 1 failure, 2 usage error") {
		t.Fatalf("--help does not state the exit statuses:\n%s", r.stdout)
	}
}

func TestReport(t *testing.T) {
	live := context.Background()
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		err      error
		wantCode int
		want     string
	}{
		{"ok", live, nil, exitOK, ""},
		{"failure", live, errors.New("execution \"x\" not found"), exitFailure, "wtb: execution \"x\" not found\n"},
		{"usage", live, fmt.Errorf("bad: %w", usagef("--limit must be positive")), exitUsage, "wtb: bad: --limit must be positive\n"},
		{"package names", live, fmt.Errorf("opening sqlite x.db: %w", fmt.Errorf("sqlite: migrate: %w", errors.New("audit: store is closed"))), exitFailure,
			"wtb: opening sqlite x.db: store is closed\n"},
		{"interrupted", stopped, fmt.Errorf("reading entries: %w", context.Canceled), exitInterrupted, "wtb: interrupted while reading entries\n"},
		{"interrupted with detail", stopped, fmt.Errorf("x: imported 3 before failing: %w; run again", context.Canceled), exitInterrupted,
			"wtb: x: imported 3 before failing: interrupted; run again\n"},
		{"cancelled without a signal", live, context.Canceled, exitFailure, "wtb: context canceled\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if code := report(tc.ctx, tc.err, &b); code != tc.wantCode {
				t.Errorf("exit %d, want %d", code, tc.wantCode)
			}
			if b.String() != tc.want {
				t.Errorf("printed %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func TestVersionFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/wtbdev/wtb", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-11-29T22:29:05Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	want := "wtb v1.4.0 (revision 0123456789abcdef0123456789abcdef01234567, 2026-11-29T22:29:05Z, modified)\n"
	if got := versionLine(bi); got != want {
		t.Errorf("versionLine = %q, want %q", got, want)
	}
	if got := versionText(bi); !strings.HasPrefix(got, want) || !strings.Contains(got, "built with go1.26.8") || !strings.Contains(got, "SQLite driver: ") {
		t.Errorf("versionText = %q", got)
	}
	if got := versionLine(nil); got != "wtb (unknown) (no VCS revision in the build information)\n" {
		t.Errorf("versionLine(nil) = %q", got)
	}
}

var (
	builtOnce sync.Once
	builtBin  string
	builtErr  error
)

// builtWTB builds the wtb binary once per test run, with the VCS
// information stamped, into a directory every user may read and run (tests
// run it as another user). It is removed when the test binary exits.
func builtWTB(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	builtOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wtb-bin-")
		if err != nil {
			builtErr = err
			return
		}
		builtDirs = append(builtDirs, dir)
		if err := os.Chmod(dir, 0o755); err != nil {
			builtErr = err
			return
		}
		bin := filepath.Join(dir, "wtb")
		cmd := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".")
		cmd.Env = append(os.Environ(), "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			builtErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		builtBin = bin
	})
	if builtErr != nil {
		t.Fatal(builtErr)
	}
	return builtBin
}

// builtDirs are removed by TestMain.
var builtDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range builtDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func TestVersionOfBuiltBinary(t *testing.T) {
	bin := builtWTB(t)
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("wtb %s: %v", args[0], err)
		}
		if !strings.HasPrefix(string(out), versionLine(bi)) {
			t.Errorf("wtb %s printed %q, want it to start with %q", args[0], out, versionLine(bi))
		}
	}
	// In a plain git checkout (CI's clean clone) the build carries the
	// revision of HEAD; a linked worktree is not stamped by the go tool.
	gitDir, err := exec.Command("git", "rev-parse", "--git-dir").Output()
	if err != nil || strings.TrimSpace(string(gitDir)) != filepath.Join(moduleRoot(t), ".git") {
		t.Logf("not a plain git checkout (%s); the revision is not checked", strings.TrimSpace(string(gitDir)))
		return
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if v := parseBuildInfo(bi); v.revision != strings.TrimSpace(string(head)) {
		t.Errorf("build information revision %q, want HEAD %s", v.revision, head)
	}
	if !strings.Contains(versionLine(bi), strings.TrimSpace(string(head))) {
		t.Errorf("version %q does not carry the revision %s", versionLine(bi), head)
	}
}

// moduleRoot returns the directory of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func TestInterruptedExitStatus(t *testing.T) {
	bin := builtWTB(t)
	db := tempDB(t)
	// import - waits on standard input, which stays open: SIGINT stops it.
	cmd := exec.Command(bin, "import", "--db", db, "--skip-invalid", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Wait until the database exists: the command is past its start-up.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(db); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the import did not start within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Signal(syscall.SIGQUIT)
		<-done
		t.Fatalf("wtb import did not stop within 30s of SIGINT; stderr:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit %d, want %d", code, exitInterrupted)
	}
	if !strings.Contains(stderr.String(), "interrupted") || strings.Contains(stderr.String(), "context canceled") {
		t.Errorf("stderr %q: want it to say interrupted", stderr.String())
	}
}

// TestConventionsForEveryCommand: a group added without commandGroup and a
// command using cobra's own argument checks follow the usage convention.
func TestConventionsForEveryCommand(t *testing.T) {
	group := &cobra.Command{Use: "testgroup", Hidden: true}
	leaf := &cobra.Command{Use: "leaf", Args: cobra.ExactArgs(1), RunE: func(*cobra.Command, []string) error { return nil }}
	group.AddCommand(leaf)
	rootCmd.AddCommand(group)
	t.Cleanup(func() { rootCmd.RemoveCommand(group) })
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"testgroup"}, "testgroup needs a command: leaf"},
		{[]string{"testgroup", "nosuch"}, `unknown command "nosuch" for testgroup`},
		{[]string{"testgroup", "leaf"}, "testgroup leaf: accepts 1 arg(s), received 0"},
		{[]string{"testgroup", "leaf", "a", "b"}, "accepts 1 arg(s), received 2"},
		{[]string{"schema", "a", "b"}, "schema: accepts at most 1 arg(s)"},
	} {
		r := run(t, "", tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("wtb %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), r.code, r.stderr, exitUsage, tc.want)
		}
	}
	if r := run(t, "", "testgroup", "leaf", "a"); r.code != exitOK {
		t.Errorf("wtb testgroup leaf a: exit %d, stderr %q", r.code, r.stderr)
	}
}

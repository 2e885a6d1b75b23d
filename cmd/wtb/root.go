// Command wtb is the workflow test bench's one binary: it runs a demo
// execution, imports events from JSON lines files, and shows, lists and
// exports the audit trail kept in SQLite (default ./wtb.db) or PostgreSQL.
//
// Usage:
//
//	wtb demo [--db PATH | --store URL]
//	wtb import [--skip-invalid] FILE.jsonl|-
//	wtb audit show ID [--all] [--debug]
//	wtb audit list
//	wtb audit summary ID
//	wtb audit export [--execution ID]
//	wtb audit tail [--execution ID] [--follow] [--server URL]
//
// The store is chosen by --db PATH (SQLite file, default wtb.db, environment
// WTB_DB) or --store URL (postgres://... or sqlite:PATH, environment
// WTB_STORE); --sync normal|full (WTB_SYNC) sets SQLite's durability. A flag
// wins over its environment variable.
//
// Errors are printed as one line "wtb: ..." on standard error. Exit status:
// 0 success; 1 failure; 2 usage error (an unknown command or flag, wrong
// arguments, a bad flag or WTB_* environment value: nothing was done); 130
// interrupted by SIGINT (Ctrl-C) or SIGTERM, except serve, which drains and
// exits 0 on a signal.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/postgres"
	"github.com/wtbdev/wtb/sqlite"
)

// Environment variables read when the matching flag is not given.
const (
	envDB    = "WTB_DB"
	envStore = "WTB_STORE"
	envSync  = "WTB_SYNC"
)

// defaultDB is the SQLite file used when neither --db/--store nor their
// environment variables name a store.
const defaultDB = "wtb.db"

// openTimeout bounds opening a store (connecting, migrating).
const openTimeout = 30 * time.Second

// storeOptions are the flags that choose the audit store. They are
// persistent flags of rootCmd, so every subcommand (serve included) has them.
type storeOptions struct {
	// DB is the SQLite file (--db).
	DB string
	// Store is a store URL (--store): postgres://..., postgresql://...,
	// sqlite:PATH or sqlite://PATH.
	Store string
	// Sync is SQLite's durability, "normal" or "full" (--sync).
	Sync string

	flags *pflag.FlagSet
}

// globalStore holds the values of the store flags of rootCmd.
var globalStore = &storeOptions{}

// rootCmd is the wtb command. Subcommands add themselves in their init.
var rootCmd = &cobra.Command{
	Use:   "wtb",
	Short: "Workflow test bench: events, bus and a durable audit trail",
	Long: `wtb records every workflow event into a durable audit trail and shows it.

The audit store is a SQLite file (--db, default wtb.db) or a PostgreSQL
database (--store postgres://user@host/db?schema=NAME). Flags win over the
environment variables WTB_DB, WTB_STORE and WTB_SYNC.

` + exitCodesHelp,
	Args:          cobra.ArbitraryArgs,
	RunE:          subcommandError,
	SilenceErrors: true,
	SilenceUsage:  true,
	CompletionOptions: cobra.CompletionOptions{
		DisableDefaultCmd: true,
	},
}

func init() {
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&globalStore.DB, "db", "", "SQLite database file (env "+envDB+", default "+defaultDB+")")
	pf.StringVar(&globalStore.Store, "store", "", "store URL: postgres://... or sqlite:PATH (env "+envStore+")")
	pf.StringVar(&globalStore.Sync, "sync", "", "SQLite durability: normal (survives a process crash) or full (survives power loss) (env "+envSync+", default normal)")
	globalStore.flags = pf
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usagef("%w", err)
	})
	rootCmd.SetHelpCommand(helpCommand())
}

// changed reports whether the flag name was given on the command line.
func (o *storeOptions) changed(name string) bool {
	if o.flags == nil {
		return false
	}
	f := o.flags.Lookup(name)
	return f != nil && f.Changed
}

// storeTarget is a resolved store choice.
type storeTarget struct {
	kind string // "sqlite" or "postgres"
	path string // SQLite file
	dsn  string // PostgreSQL DSN
	sync sqlite.Sync
	// readOnly opens an existing store without creating or migrating
	// anything (the read commands).
	readOnly bool
}

// String describes the target without credentials.
func (t storeTarget) String() string {
	if t.kind == "sqlite" {
		return "sqlite " + t.path
	}
	return "postgres " + redactDSN(t.dsn)
}

// resolve applies the precedence rules: an explicit flag wins over the
// environment; --db and --store together are an error, and so are WTB_DB and
// WTB_STORE together when no flag decides.
func (o *storeOptions) resolve() (storeTarget, error) {
	dbFlag, storeFlag := o.changed("db"), o.changed("store")
	var db, store string
	switch {
	case dbFlag && storeFlag:
		return storeTarget{}, usagef("--db and --store both given; use one")
	case dbFlag:
		db = o.DB
	case storeFlag:
		store = o.Store
	default:
		db, store = os.Getenv(envDB), os.Getenv(envStore)
		if db != "" && store != "" {
			return storeTarget{}, usagef("%s and %s are both set; unset one", envDB, envStore)
		}
	}
	if dbFlag && db == "" {
		return storeTarget{}, usagef("--db needs a file name")
	}
	if storeFlag && store == "" {
		return storeTarget{}, usagef("--store needs a URL")
	}

	syncText := o.Sync
	syncGiven := o.changed("sync")
	if !syncGiven {
		syncText = os.Getenv(envSync)
	}
	var t storeTarget
	switch {
	case store == "":
		if db == "" {
			db = defaultDB
		}
		t = storeTarget{kind: "sqlite", path: db}
	case strings.HasPrefix(store, "postgres://"), strings.HasPrefix(store, "postgresql://"):
		if syncGiven {
			return storeTarget{}, usagef("--sync applies to SQLite only")
		}
		return storeTarget{kind: "postgres", dsn: store}, nil
	case strings.HasPrefix(store, "sqlite://"):
		t = storeTarget{kind: "sqlite", path: strings.TrimPrefix(store, "sqlite://")}
	case strings.HasPrefix(store, "sqlite:"):
		t = storeTarget{kind: "sqlite", path: strings.TrimPrefix(store, "sqlite:")}
	default:
		if !storeFlag {
			return storeTarget{}, envError(envStore, redactDSN(store), "want postgres://..., postgresql://... or sqlite:PATH")
		}
		return storeTarget{}, usagef("--store %q: want postgres://..., postgresql://... or sqlite:PATH", redactDSN(store))
	}
	if t.path == "" {
		if !storeFlag {
			return storeTarget{}, envError(envStore, store, "names no file")
		}
		return storeTarget{}, usagef("--store %q names no file", store)
	}
	if syncText != "" {
		s, err := sqlite.ParseSync(syncText)
		if err != nil && !syncGiven {
			return storeTarget{}, envError(envSync, syncText, "want normal or full")
		}
		if err != nil {
			return storeTarget{}, usagef("--sync %q: want normal or full", syncText)
		}
		t.sync = s
	}
	return t, nil
}

// openStore opens the audit store chosen by o for writing, creating and
// migrating it if needed (read commands use openStoreForReading). It opens
// the store chosen by o (--db/WTB_DB,
// --store/WTB_STORE, --sync/WTB_SYNC; flags win over the environment).
// The caller closes it.
func openStore(ctx context.Context, o *storeOptions) (audit.Store, error) {
	t, err := o.resolve()
	if err != nil {
		return nil, err
	}
	return openTarget(ctx, t)
}

// openStoreForReading opens the audit store chosen by o for reading only:
// every command that only reads (audit list, show, summary, export and the
// like) opens its store so, and never creates a database file or schema.
// A missing one is a clear error.
func openStoreForReading(ctx context.Context, o *storeOptions) (audit.Store, error) {
	t, err := o.resolve()
	if err != nil {
		return nil, err
	}
	t.readOnly = true
	return openTarget(ctx, t)
}

// openTarget opens a resolved store.
func openTarget(ctx context.Context, t storeTarget) (audit.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	var st audit.Store
	var err error
	switch t.kind {
	case "postgres":
		st, err = postgres.Open(ctx, t.dsn, postgres.Options{ReadOnly: t.readOnly})
	default:
		st, err = sqlite.Open(ctx, t.path, sqlite.Options{Sync: t.sync, ReadOnly: t.readOnly})
	}
	if t.readOnly && (errors.Is(err, sqlite.ErrSchemaOutdated) || errors.Is(err, postgres.ErrSchemaOutdated)) {
		// A store written by an older wtb: migrating it creates nothing
		// new, so a read command may do it when it can write.
		w := t
		w.readOnly = false
		if st, werr := openTarget(ctx, w); werr == nil {
			return st, nil
		}
	}
	if err != nil {
		return nil, openError(t, err)
	}
	if !t.readOnly {
		// Recording: checkpoints signed and witnessed, runs sealed.
		lst, err := withLedger(st, t)
		if err != nil {
			st.Close()
			return nil, err
		}
		return lst, nil
	}
	return st, nil
}

// openError explains why a store could not be opened, in terms of what
// the user can do about it.
func openError(t storeTarget, err error) error {
	const creators = "wtb demo, wtb import and wtb serve create one; --db or " + envDB + " chooses another"
	switch {
	case t.kind == "sqlite" && t.readOnly && errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("no audit database at %s (read commands never create one: %s)", t.path, creators)
	case t.kind == "sqlite" && errors.Is(err, sqlite.ErrNoSchema):
		return fmt.Errorf("%s holds no audit trail: it is empty or another program's file (read commands never create one: %s)", t.path, creators)
	case t.kind == "postgres" && errors.Is(err, postgres.ErrNoSchema):
		return fmt.Errorf("%s holds no audit trail (read commands never create one: wtb import or wtb serve with --store creates it)", t)
	case t.kind == "sqlite" && errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("opening %s: permission denied (check the permissions of the file and of its directory)", t)
	}
	return fmt.Errorf("opening %s: %w", t, err)
}

// redactDSN hides a password in a URL-form DSN.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":xxxxx" + dsn[at:]
	}
	return dsn
}

// execute runs the wtb command line with args and the given streams, prints
// an error as one line "wtb: ..." on stderr, and returns the exit status.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	rootCmd.SetArgs(args)
	rootCmd.SetIn(stdin)
	rootCmd.SetOut(stdout)
	rootCmd.SetErr(stderr)
	// cobra keeps a subcommand's context from its first execution; give
	// every command this run's context (in-process runs execute repeatedly).
	setContext(rootCmd, ctx)
	enforceConventions(rootCmd)
	err := rootCmd.ExecuteContext(ctx)
	return report(ctx, err, stderr)
}

// setContext sets ctx as the context of cmd and all its subcommands.
func setContext(cmd *cobra.Command, ctx context.Context) {
	cmd.SetContext(ctx)
	for _, c := range cmd.Commands() {
		setContext(c, ctx)
	}
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\r\n") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

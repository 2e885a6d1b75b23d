package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit statuses of wtb, the same for every subcommand (documented in the
// package doc, the root --help and the README).
const (
	// exitOK: the command did what it was asked.
	exitOK = 0
	// exitFailure: the command was well formed but failed (a missing
	// database, an unknown execution, invalid input lines, a store error).
	exitFailure = 1
	// exitUsage: the command line or the environment was wrong (an unknown
	// command or flag, a missing or extra argument, a flag or WTB_*
	// variable with a bad value). Nothing was done.
	exitUsage = 2
	// exitInterrupted: SIGINT (Ctrl-C) or SIGTERM stopped the command, 128
	// plus SIGINT's number as shells report it. serve is the exception: a
	// signal is how it is asked to stop, and it exits 0 once drained.
	exitInterrupted = 130
)

// exitCodesHelp describes the exit statuses for --help.
const exitCodesHelp = `Exit status: 0 success, 1 failure, 2 usage error (unknown command or flag,
wrong arguments, a bad flag or WTB_* value: nothing was done), 130
interrupted (Ctrl-C or SIGTERM; serve exits 0 once it has drained).`

// usageError is an error in how the command was called (exit status 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message: every error of a
// command line, a flag value or an environment variable goes through it.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// envError is the usage error for an environment variable with a bad
// value: it names the variable, as a flag error names the flag.
func envError(name, value, want string) error {
	return usagef("environment variable %s=%q: %s", name, value, want)
}

// flagWant says what value a flag takes, for the error of an environment
// variable that sets it: "want a duration such as 15s (as --heartbeat)".
func flagWant(f *pflag.Flag) string {
	kind := map[string]string{
		"duration": "a duration",
		"int":      "a whole number",
		"int64":    "a whole number",
		"size":     "a size in bytes, with or without a unit",
		"level":    "a level",
	}[f.Value.Type()]
	if kind == "" {
		kind = "a value"
	}
	return fmt.Sprintf("want %s such as %s (as --%s takes)", kind, f.DefValue, f.Name)
}

// commandGroup makes cmd a group of subcommands (like "wtb audit"): run
// without a subcommand or with an unknown one, it is a usage error naming
// the subcommands, never the help text with exit status 0.
func commandGroup(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		return subcommandError(c, args)
	}
	return cmd
}

// conventionApplied marks the commands enforceConventions has handled.
var conventionApplied = map[*cobra.Command]bool{}

// enforceConventions applies the usage convention to every command under
// cmd, including those added without the helpers: a group without its own
// Run becomes a commandGroup, and an error of a positional argument check
// (cobra.ExactArgs and the like) becomes a usage error (exit status 2).
func enforceConventions(cmd *cobra.Command) {
	if !conventionApplied[cmd] {
		conventionApplied[cmd] = true
		if cmd.HasSubCommands() && !cmd.Runnable() {
			commandGroup(cmd)
		}
		if check := cmd.Args; check != nil {
			cmd.Args = func(c *cobra.Command, args []string) error {
				err := check(c, args)
				var ue *usageError
				if err != nil && !errors.As(err, &ue) {
					return usagef("%s: %w (usage: %s)", commandName(c), err, c.UseLine())
				}
				return err
			}
		}
	}
	for _, c := range cmd.Commands() {
		enforceConventions(c)
	}
}

// helpCommand is "wtb help [command]": the help of the named command, and
// a usage error (exit status 2) for a command that does not exist, where
// cobra's own help command prints the root help and exits 0.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				parent := c.Root()
				if target != nil {
					parent = target
				}
				return subcommandError(parent, rest)
			}
			return target.Help()
		},
	}
}

// subcommandError is the usage error of a group command run with args (no
// subcommand matched them).
func subcommandError(c *cobra.Command, args []string) error {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	list := strings.Join(names, ", ")
	if len(args) == 0 {
		if !c.HasParent() {
			return usagef("a command is needed: %s (see %s --help)", list, c.CommandPath())
		}
		return usagef("%s needs a command: %s (see %s --help)", commandName(c), list, c.CommandPath())
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if c.HasParent() {
		msg += " for " + commandName(c)
	}
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usagef("%s (commands: %s)", msg, list)
}

// commandName is the command's path without the program name: "audit
// show".
func commandName(c *cobra.Command) string {
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// internalPrefix matches the package prefixes of library errors ("sqlite: ",
// "audit: "...) at the start of a message or of one of its parts: the
// command line speaks of what went wrong, not of where in the code.
var internalPrefix = regexp.MustCompile(`(^|: )(audit|event|sqlite|postgres|httpapi|bus|migrate|migrations|jsonw|refdata): `)

// userMessage returns the one-line message of err for the terminal, without
// internal package names.
func userMessage(err error) string {
	msg := oneLine(err.Error())
	for {
		next := internalPrefix.ReplaceAllString(msg, "$1")
		if next == msg {
			return msg
		}
		msg = next
	}
}

// report prints err as one line "wtb: ..." on stderr and returns the exit
// status of the run (see exitOK and the others). ctx is the run's context:
// once a signal has cancelled it, the error is reported as an interruption.
func report(ctx context.Context, err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var xe *exitStatusError // a command's own status (audit verify)
	if errors.As(err, &xe) {
		if msg := xe.Error(); msg != "" {
			fmt.Fprintln(stderr, "wtb: "+userMessage(err))
		}
		return xe.code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "wtb: "+userMessage(err))
		return exitUsage
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		msg := strings.ReplaceAll(userMessage(err), context.Canceled.Error(), "interrupted")
		msg = strings.ReplaceAll(msg, "interrupted: interrupted", "interrupted")
		switch {
		case strings.HasPrefix(msg, "interrupted"):
		case strings.HasSuffix(msg, ": interrupted"):
			msg = "interrupted while " + strings.TrimSuffix(msg, ": interrupted")
		case !strings.Contains(msg, "interrupted"):
			msg = "interrupted: " + msg
		}
		fmt.Fprintln(stderr, "wtb: "+msg)
		return exitInterrupted
	}
	fmt.Fprintln(stderr, "wtb: "+userMessage(err))
	return exitFailure
}

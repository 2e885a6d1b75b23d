package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/event/schema"
)

var schemaList bool

var schemaCmd = &cobra.Command{
	Use:   "schema [TYPE]",
	Short: "Print the JSON Schema of an event type, or of every event",
	Long: `Print the JSON Schema (draft 2020-12) of one event type, generated from the
catalog: TYPE is a Go type name (NodeFailed), a reference class
(NodeFailedEvent) or a wire name (file_commit.created, node_completed); case
does not matter. Without TYPE, print one schema for any event: the 83 types
under $defs and a oneOf over them. --list lists the types.

The schemas describe the documents wtb and the reference write: every field
with its JSON type, null only where the field is optional, no unknown keys.
Every document they accept, wtb import and POST /v1/events accept.`,
	Args: cobra.MaximumNArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		out := cmd.OutOrStdout()
		if schemaList {
			if len(args) > 0 {
				return usagef("schema --list takes no type")
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TYPE\tCATEGORY\tEVENT_TYPE")
			for _, t := range event.Types() {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.Category, strings.Join(t.WireNames, " "))
			}
			return tw.Flush()
		}
		s := schema.Document()
		if len(args) == 1 {
			t, ok := schema.Find(args[0])
			if !ok {
				return usagef("unknown event type %q (wtb schema --list lists the %d types)", args[0], event.NumTypes)
			}
			s = schema.For(t)
		}
		b, err := schema.Marshal(s)
		if err != nil {
			return fmt.Errorf("writing the schema: %w", err)
		}
		_, err = out.Write(b)
		return err
	},
}

func init() {
	schemaCmd.Flags().BoolVar(&schemaList, "list", false, "list the event types: Go name, category, event_type values")
	rootCmd.AddCommand(schemaCmd)
}

package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wtbdev/wtb/audit"
)

var auditDiffJSON bool

var auditDiffCmd = &cobra.Command{
	Use:   "diff EXECUTION_A EXECUTION_B [--json]",
	Short: "Compare two executions: first divergence, aligned steps, duration deltas",
	Long: `Compare two executions side by side, as GET /v1/compare does: their node runs
and rollbacks aligned by node sequence (a retry or an extra rollback shows as a
step of one execution only), the first point where they diverge (a different
node, status, error, rollback, final state keys or end), the duration delta of
every aligned node run and of every node, and the summary fields that differ.
--json prints the comparison as the API answers it.`,
	Args: argsExactly(2, "two execution ids"),
	RunE: func(cmd *cobra.Command, args []string) error {
		st, err := openStoreForReading(cmd.Context(), globalStore)
		if err != nil {
			return err
		}
		defer st.Close()
		c, err := compareExecutions(cmd.Context(), st, args[0], args[1])
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if auditDiffJSON {
			b, err := json.MarshalIndent(c, "", "  ")
			if err != nil {
				return fmt.Errorf("encoding the comparison: %w", err)
			}
			_, err = fmt.Fprintln(out, string(b))
			return err
		}
		_, err = fmt.Fprintln(out, audit.FormatComparison(c))
		return err
	},
}

func init() {
	auditDiffCmd.Flags().BoolVar(&auditDiffJSON, "json", false, "print the comparison as JSON (the answer of GET /v1/compare)")
	auditCmd.AddCommand(auditDiffCmd)
}

// executionEntries reads an execution's summary and all its entries.
func executionEntries(ctx context.Context, st audit.Store, id string) (audit.Summary, []audit.Entry, error) {
	s, err := summary(ctx, st, id)
	if err != nil {
		return s, nil, err
	}
	var entries []audit.Entry
	err = forEachEntry(ctx, st, audit.Filter{ExecutionID: id}, func(page []audit.Entry) error {
		entries = append(entries, page...)
		return nil
	})
	return s, entries, err
}

// compareExecutions compares executions a and b of st.
func compareExecutions(ctx context.Context, st audit.Store, a, b string) (audit.Comparison, error) {
	sa, ea, err := executionEntries(ctx, st, a)
	if err != nil {
		return audit.Comparison{}, err
	}
	sb, eb, err := executionEntries(ctx, st, b)
	if err != nil {
		return audit.Comparison{}, err
	}
	return audit.Compare(sa, ea, sb, eb), nil
}

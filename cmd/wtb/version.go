package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wtbdev/wtb/sqlite"
)

var versionCmd = &cobra.Command{
	Use:   "version",
	Short: "Print the version, VCS revision and build of this binary",
	Long: `Print the module version and VCS revision this binary was built from (from the
Go build information), the Go version and platform, and the SQLite driver
compiled in. "wtb --version" prints the same.`,
	Args: argsExactly(0, ""),
	RunE: func(cmd *cobra.Command, _ []string) error {
		_, err := fmt.Fprint(cmd.OutOrStdout(), versionText(readBuildInfo()))
		return err
	},
}

func init() {
	rootCmd.AddCommand(versionCmd)
	rootCmd.Version = versionLine(readBuildInfo())
	rootCmd.SetVersionTemplate(`{{printf "%s" .Version}}`)
}

// readBuildInfo is debug.ReadBuildInfo (a variable for tests).
var readBuildInfo = func() *debug.BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return bi
}

// buildVersion is what the build information says of the binary.
type buildVersion struct {
	module   string // module version: v1.2.3, a pseudo-version, or "(devel)"
	revision string // VCS revision, "" when unknown
	time     string // commit time of the revision
	modified bool   // the work tree had uncommitted changes
	goVer    string
}

func parseBuildInfo(bi *debug.BuildInfo) buildVersion {
	v := buildVersion{module: "(unknown)", goVer: runtime.Version()}
	if bi == nil {
		return v
	}
	if bi.Main.Version != "" {
		v.module = bi.Main.Version
	}
	if bi.GoVersion != "" {
		v.goVer = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.revision = s.Value
		case "vcs.time":
			v.time = s.Value
		case "vcs.modified":
			v.modified = s.Value == "true"
		}
	}
	return v
}

// versionLine is the one-line version: "wtb v1.2.3 (revision 0123abcd...,
// modified)".
func versionLine(bi *debug.BuildInfo) string {
	v := parseBuildInfo(bi)
	var b strings.Builder
	b.WriteString("wtb " + v.module)
	switch {
	case v.revision != "":
		b.WriteString(" (revision " + v.revision)
		if v.time != "" {
			b.WriteString(", " + v.time)
		}
		if v.modified {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	default:
		b.WriteString(" (no VCS revision in the build information)")
	}
	b.WriteString("\n")
	return b.String()
}

// versionText is the output of "wtb version": the version line and the
// build.
func versionText(bi *debug.BuildInfo) string {
	v := parseBuildInfo(bi)
	driver := "cgo (github.com/mattn/go-sqlite3)"
	if sqlite.DefaultDriver == sqlite.DriverPure {
		driver = "pure Go (modernc.org/sqlite)"
	}
	return versionLine(bi) + fmt.Sprintf("built with %s for %s/%s; SQLite driver: %s\n",
		v.goVer, runtime.GOOS, runtime.GOARCH, driver)
}

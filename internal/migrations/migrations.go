// Package migrations reads the numbered schema migrations a store embeds
// (NNNN_name.sql). Each store applies them its own way; the files follow one
// rule for all: versions start at 1 and have no gaps.
package migrations

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one numbered schema change.
type Migration struct {
	// Version is the NNNN of the file name.
	Version int
	// File is the file name, e.g. "0001_entries.sql".
	File string
	// Name is the part between the number and ".sql", e.g. "entries".
	Name string
	// SQL is the file's content.
	SQL string
}

// Load returns the migrations matching pattern in fsys (for example
// "migrations/*.sql" of an embed.FS), in version order. It fails on a file
// not named NNNN_name.sql and on a version that is not the next one.
func Load(fsys fs.FS, pattern string) ([]Migration, error) {
	files, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	ms := make([]Migration, 0, len(files))
	for _, f := range files {
		file := path.Base(f)
		num, name, ok := strings.Cut(strings.TrimSuffix(file, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || name == "" || !strings.HasSuffix(file, ".sql") {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", file)
		}
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", file, err)
		}
		ms = append(ms, Migration{Version: v, File: file, Name: name, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d", m.File, i+1)
		}
	}
	return ms, nil
}

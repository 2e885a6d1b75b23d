package migrations

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_index.sql":   {Data: []byte("CREATE INDEX i ON t (a);")},
		"m/0001_entries.sql": {Data: []byte("CREATE TABLE t (a int);")},
		"m/README":           {Data: []byte("not a migration")},
	}
	ms, err := Load(fsys, "m/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[0].File != "0001_entries.sql" || ms[0].Name != "entries" ||
		ms[1].Version != 2 || ms[1].Name != "index" || !strings.HasPrefix(ms[1].SQL, "CREATE INDEX") {
		t.Fatalf("Load = %+v", ms)
	}
}

func TestLoadRejects(t *testing.T) {
	for name, files := range map[string][]string{
		"gap":        {"0001_a.sql", "0003_c.sql"},
		"duplicate":  {"0001_a.sql", "0001_b.sql"},
		"no number":  {"a.sql"},
		"zero":       {"0000_a.sql"},
		"no name":    {"0001_.sql"},
		"not first":  {"0002_b.sql"},
		"bad number": {"00x1_a.sql"},
	} {
		fsys := fstest.MapFS{}
		for _, f := range files {
			fsys["m/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		if ms, err := Load(fsys, "m/*.sql"); err == nil {
			t.Errorf("%s: Load(%v) = %+v, want an error", name, files, ms)
		}
	}
}

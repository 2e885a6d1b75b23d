package ledger

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
)

// Witness keeps checkpoints outside the store's database, so that someone
// who can rewrite the database cannot also rewrite the history it
// published: a file appended to, a URL, a JetStream subject.
type Witness interface {
	// Witness hands over one signed checkpoint note.
	Witness(ctx context.Context, note []byte) error
	// String names the witness in logs.
	String() string
}

// FileWitness appends every checkpoint note to a file, each followed by a
// blank line, and syncs it. ReadWitnessFile reads it back.
type FileWitness struct {
	Path string
	mu   sync.Mutex
}

// Witness appends note to the file.
func (w *FileWitness) Witness(_ context.Context, note []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, err := os.OpenFile(w.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(bytes.Clone(note), '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (w *FileWitness) String() string { return "file:" + w.Path }

// URLWitness POSTs every checkpoint note (text/plain) to a URL and expects
// a 2xx answer.
type URLWitness struct {
	URL string
	// Client is the HTTP client (default http.DefaultClient).
	Client *http.Client
}

// Witness posts note.
func (w *URLWitness) Witness(ctx context.Context, note []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(note))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	c := w.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("witness %s answered %s", w.URL, resp.Status)
	}
	return nil
}

func (w *URLWitness) String() string { return w.URL }

// MaxWitnessFile bounds the file ReadWitnessFile reads.
const MaxWitnessFile = 1 << 30

// ReadWitnessFile reads the checkpoint notes a FileWitness wrote: each a
// note (text, blank line, signature lines) followed by a blank line.
func ReadWitnessFile(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ledger: witness file: %w", err)
	}
	defer f.Close()
	return ParseNotes(io.LimitReader(f, MaxWitnessFile))
}

// ParseNotes splits a stream of signed notes written one after another,
// each followed by a blank line.
func ParseNotes(r io.Reader) ([][]byte, error) {
	var (
		out  [][]byte
		cur  bytes.Buffer
		sigs bool // in the signature lines of cur
	)
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, bytes.Clone(cur.Bytes()))
			cur.Reset()
		}
		sigs = false
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" && !sigs && cur.Len() > 0:
			sigs = true
			cur.WriteString("\n")
		case line == "":
			flush()
		case sigs && !strings.HasPrefix(line, "— "):
			flush()
			cur.WriteString(line + "\n")
		default:
			cur.WriteString(line + "\n")
		}
	}
	flush()
	return out, sc.Err()
}

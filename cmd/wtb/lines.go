package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/wtbdev/wtb/event"
)

// maxLineSize is the longest line import reads: one event of at most
// event.MaxEventSize bytes plus its line ending. Longer lines are reported as
// invalid and skipped without being held in memory.
const maxLineSize = event.MaxEventSize + 2

// errLineTooLong is the reason given for a line longer than maxLineSize.
var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxLineSize)

// lineReader reads a JSON lines stream one line at a time, with a bounded
// buffer.
type lineReader struct {
	r     *bufio.Reader
	n     int   // number of the line last returned, from 1
	bytes int64 // bytes consumed so far
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, maxLineSize)}
}

// next returns the next line without its line ending, its number, and
// errLineTooLong for a line over the limit (the line is then skipped). It
// returns io.EOF at the end. The line is valid until the next call.
func (lr *lineReader) next() (line []byte, num int, err error) {
	line, err = lr.r.ReadSlice('\n')
	lr.bytes += int64(len(line))
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			var more []byte
			more, err = lr.r.ReadSlice('\n')
			lr.bytes += int64(len(more))
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, lr.n, fmt.Errorf("reading line %d: %w", lr.n+1, err)
		}
		lr.n++
		return nil, lr.n, errLineTooLong
	}
	if err != nil {
		if !errors.Is(err, io.EOF) {
			return nil, lr.n, fmt.Errorf("reading line %d: %w", lr.n+1, err)
		}
		if len(line) == 0 {
			return nil, lr.n, io.EOF
		}
	}
	lr.n++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, lr.n, nil
}

// blank reports whether a line holds only white space; blank lines are
// skipped by import.
func blank(line []byte) bool {
	return len(bytes.TrimSpace(line)) == 0
}

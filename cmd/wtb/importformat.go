package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// utf8BOM is the byte order mark some editors put at the start of UTF-8
// files; import skips it.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// arrayElement ends the display name of an input that is a JSON array: its
// invalid "lines" are its elements ("events.json, element 3: ...").
const arrayElement = ", element "

// lineRef names line (or array element) num of the input called name.
func lineRef(name string, num int) string {
	if strings.HasSuffix(name, arrayElement) {
		return name + strconv.Itoa(num)
	}
	return name + ":" + strconv.Itoa(num)
}

// importInputCtx is importInput, given up when ctx ends: the first read
// may block on a terminal or a pipe left open, and an interruption does not
// wait for it (the blocked read is abandoned, as parseStream's is).
func importInputCtx(ctx context.Context, r io.Reader) (io.Reader, bool, error) {
	type result struct {
		r       io.Reader
		isArray bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		in, isArray, err := importInput(r)
		done <- result{in, isArray, err}
	}()
	select {
	case res := <-done:
		return res.r, res.isArray, res.err
	case <-ctx.Done():
		return nil, false, fmt.Errorf("interrupted: %w", ctx.Err())
	}
}

// importInput prepares an input of import: it skips a UTF-8 byte order
// mark, and turns a JSON array of events (the first character after white
// space is '[') into JSON lines, one element a line, so that an array
// imports as its elements would from JSON lines. It reports whether the
// input is an array.
func importInput(r io.Reader) (io.Reader, bool, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	for {
		c, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return br, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		br.UnreadByte()
		if c != '[' {
			return br, false, nil
		}
		bounded := &boundedReader{r: br}
		return &arrayLines{dec: json.NewDecoder(bounded), in: bounded}, true, nil
	}
}

// arrayLines reads a JSON array and yields its elements as JSON lines. The
// elements are copied as they are, compacted onto one line; an element
// longer than maxLineSize, or a break in the array's syntax, ends the input
// with an error naming the element.
type arrayLines struct {
	dec     *json.Decoder
	in      *boundedReader
	buf     bytes.Buffer
	n       int // elements read
	started bool
	done    bool
}

func (a *arrayLines) Read(p []byte) (int, error) {
	for a.buf.Len() == 0 {
		if a.done {
			return 0, io.EOF
		}
		if err := a.next(); err != nil {
			return 0, &arrayError{err}
		}
	}
	return a.buf.Read(p)
}

// arrayError is an error of reading a JSON array input: it ends the import.
type arrayError struct{ err error }

func (e *arrayError) Error() string { return e.err.Error() }
func (e *arrayError) Unwrap() error { return e.err }

// next puts the next element, or nothing at the end, into a.buf.
func (a *arrayLines) next() error {
	if !a.started {
		if _, err := a.dec.Token(); err != nil { // '[': importInput saw it
			return fmt.Errorf("reading the JSON array: %w", err)
		}
		a.started = true
	}
	if !a.dec.More() {
		if _, err := a.dec.Token(); err != nil { // ']'
			return fmt.Errorf("the JSON array after element %d: %w", a.n, err)
		}
		if _, err := a.dec.Token(); !errors.Is(err, io.EOF) {
			return fmt.Errorf("data after the JSON array: import reads one array, or JSON lines (one event per line)")
		}
		a.done = true
		return nil
	}
	a.n++
	a.in.start = a.dec.InputOffset() // bound what is read for this element
	var raw json.RawMessage
	if err := a.dec.Decode(&raw); err != nil {
		if errors.Is(err, errElementTooLong) {
			return fmt.Errorf("element %d of the JSON array is longer than %d bytes", a.n, maxLineSize)
		}
		return fmt.Errorf("the JSON array at element %d: %w (import reads a JSON array of events, or JSON lines: one event per line)", a.n, err)
	}
	if len(raw) > maxLineSize {
		return fmt.Errorf("element %d of the JSON array is longer than %d bytes", a.n, maxLineSize)
	}
	if err := json.Compact(&a.buf, raw); err != nil {
		return fmt.Errorf("the JSON array at element %d: %w", a.n, err)
	}
	a.buf.WriteByte('\n')
	return nil
}

// boundedReader fails once the decoder has read more than
// maxArrayBytesAhead bytes past the start of the element it decodes (a
// giant element, an unterminated string), so reading an array never holds
// more than that.
type boundedReader struct {
	r     io.Reader
	read  int64 // bytes read so far
	start int64 // input offset of the element being decoded
}

// maxArrayBytesAhead bounds what the JSON array reader buffers.
const maxArrayBytesAhead = 2 * maxLineSize

var errElementTooLong = errors.New("element too long")

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.read-b.start > maxArrayBytesAhead {
		return 0, errElementTooLong
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}

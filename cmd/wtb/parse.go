package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/wtbdev/wtb/audit"
)

// Limits of the parallel parser.
const (
	// chunkLines is the most lines in one chunk; a chunk's valid entries
	// are submitted as one group, so it is also import's group size.
	chunkLines = importGroup
	// chunkBytes closes a chunk once its lines hold this many bytes (a
	// chunk may exceed it by one line of at most maxLineSize).
	chunkBytes = 4 << 20
	// chunksPerWorker bounds the chunks read ahead of the consumer, per
	// parsing goroutine.
	chunksPerWorker = 2
)

// badLine is an invalid line: its number and why.
type badLine struct {
	num int
	err error
}

// chunk is a run of consecutive non-blank lines, parsed by one worker.
type chunk struct {
	buf  []byte // the lines' bytes, back to back
	ends []int  // end offset in buf of each line
	nums []int  // line number of each line

	entries []audit.Entry // entries of the valid lines, in line order (when kept)
	bad     []badLine     // invalid lines, in line order
	lines   int           // non-blank lines, valid or not
	bytes   int64         // input bytes consumed up to the end of the chunk

	keep bool
	done chan struct{}
}

var chunkPool = sync.Pool{New: func() any { return new(chunk) }}

func getChunk(keep bool) *chunk {
	c := chunkPool.Get().(*chunk)
	c.buf, c.ends, c.nums = c.buf[:0], c.ends[:0], c.nums[:0]
	clear(c.entries)
	c.entries, c.bad = c.entries[:0], c.bad[:0]
	c.lines, c.bytes, c.keep = 0, 0, keep
	c.done = make(chan struct{})
	return c
}

func putChunk(c *chunk) {
	if cap(c.buf) > 2*chunkBytes {
		c.buf = nil
	}
	chunkPool.Put(c)
}

// parse parses the chunk's lines into entries and bad lines.
func (c *chunk) parse() {
	start := 0
	for i, end := range c.ends {
		e, err := parseLine(c.buf[start:end])
		start = end
		if err != nil {
			c.bad = append(c.bad, badLine{c.nums[i], err})
			continue
		}
		if c.keep {
			c.entries = append(c.entries, e)
		}
	}
	// Lines too long to hold were added to bad by the reader, out of order.
	slices.SortFunc(c.bad, func(a, b badLine) int { return a.num - b.num })
	close(c.done)
}

// parseStream reads r, parses its non-blank lines on GOMAXPROCS goroutines
// and calls fn with every chunk, in input order. With keep, chunks carry
// the entries of their valid lines; without, only the invalid lines. fn must
// not keep the chunk after returning. parseStream returns fn's first error,
// a read error, or the context's error.
func parseStream(ctx context.Context, r io.Reader, keep bool, fn func(*chunk) error) error {
	ctx, cancel := context.WithCancel(ctx)
	workers := max(1, runtime.GOMAXPROCS(0))
	work := make(chan *chunk, workers)
	order := make(chan *chunk, workers*chunksPerWorker)

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case c, ok := <-work:
					if !ok {
						return
					}
					c.parse()
				case <-ctx.Done():
					return
				}
			}
		})
	}
	defer func() {
		cancel()
		wg.Wait()
	}()

	var readErr error // set by the reader before it closes order
	go func() {
		defer close(order)
		defer close(work)
		send := func(c *chunk) bool {
			select {
			case order <- c:
			case <-ctx.Done():
				return false
			}
			select {
			case work <- c:
				return true
			case <-ctx.Done():
				return false
			}
		}
		lr := newLineReader(r)
		c := getChunk(keep)
		for {
			line, num, err := lr.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil && !errors.Is(err, errLineTooLong) {
				readErr = err
				return
			}
			if err == nil && blank(line) {
				continue
			}
			c.lines++
			if err != nil {
				c.bad = append(c.bad, badLine{num, err})
			} else {
				c.buf = append(c.buf, line...)
				c.ends = append(c.ends, len(c.buf))
				c.nums = append(c.nums, num)
			}
			if c.lines >= chunkLines || len(c.buf) >= chunkBytes {
				c.bytes = lr.bytes
				if !send(c) {
					return
				}
				c = getChunk(keep)
			}
		}
		if c.lines > 0 {
			c.bytes = lr.bytes
			send(c)
		}
	}()

	for {
		// The reader may be blocked in a Read that never returns (a
		// terminal or pipe left open): an interruption does not wait for it.
		var c *chunk
		select {
		case c = <-order:
		case <-ctx.Done():
			return fmt.Errorf("interrupted: %w", ctx.Err())
		}
		if c == nil {
			break
		}
		select {
		case <-c.done:
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
		putChunk(c)
	}
	if readErr != nil {
		return readErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	return nil
}

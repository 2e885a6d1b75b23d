package bus

import (
	"context"
	"reflect"
	"strconv"
	"sync/atomic"
	"time"
)

// depthKey is the context key under which a *depthCtx finds itself.
type depthKey struct{}

// depthCtx is the context handed to synchronous handlers: its parent plus the
// nesting depth of the delivery. It is immutable apart from the lazily built
// cache of its own child (depth+1), so handlers may keep it, and building the
// same child twice is harmless.
type depthCtx struct {
	context.Context
	depth int
	next  atomic.Pointer[depthCtx]
	async atomic.Pointer[detachedCtx]
}

// depther is implemented by the contexts that carry a nesting depth.
type depther interface{ nestDepth() int }

func (c *depthCtx) nestDepth() int    { return c.depth }
func (c *detachedCtx) nestDepth() int { return c.depth }

// Value returns the depthCtx itself for depthKey and defers to the parent
// otherwise.
func (c *depthCtx) Value(key any) any {
	if _, ok := key.(depthKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// String describes the context for debugging.
func (c *depthCtx) String() string {
	return "bus.depth(" + strconv.Itoa(c.depth) + ")"
}

// childOf returns the context for deliveries nested one level below parent,
// whose depth is depth, caching it in slot (parent's own child cache).
func childOf(slot *atomic.Pointer[depthCtx], parent context.Context, depth int) *depthCtx {
	if n := slot.Load(); n != nil {
		return n
	}
	n := &depthCtx{Context: parent, depth: depth + 1}
	if slot.CompareAndSwap(nil, n) {
		return n
	}
	return slot.Load()
}

// detached returns the context for asynchronous deliveries at the same depth
// as c: c's parent's values and c's depth, without cancellation.
func (c *depthCtx) detached() *detachedCtx {
	if d := c.async.Load(); d != nil {
		return d
	}
	d := &detachedCtx{parent: c.Context, depth: c.depth}
	if c.async.CompareAndSwap(nil, d) {
		return d
	}
	return c.async.Load()
}

// depthOf returns the nesting depth carried by ctx and, when ctx is exactly
// one of the bus's own handler contexts, its child cache.
func depthOf(ctx context.Context) (*atomic.Pointer[depthCtx], int) {
	switch c := ctx.(type) {
	case *depthCtx:
		return &c.next, c.depth
	case *detachedCtx:
		return &c.next, c.depth
	}
	if d, ok := ctx.Value(depthKey{}).(depther); ok {
		return nil, d.nestDepth()
	}
	return nil, 0
}

// rootChild returns a new handler context for a publish on ctx at depth and
// makes it the bus's one-entry cache (Bus.rootCtx), so that publishing
// repeatedly on the same context (context.Background(), a request context)
// allocates nothing. Only contexts of comparable dynamic type are cached, so
// the equality test in Publish never panics: an interface comparison checks
// the dynamic types first, and a cached entry's type is known to be
// comparable.
func (b *Bus) rootChild(ctx context.Context, depth int) *depthCtx {
	n := &depthCtx{Context: ctx, depth: depth + 1}
	if reflect.TypeOf(ctx).Comparable() {
		b.rootCtx.Store(n)
	}
	return n
}

// detachedCtx is the context handed to asynchronous handlers: the
// publisher's values and nesting depth without its cancellation or deadline,
// since the handler runs after Publish has returned.
type detachedCtx struct {
	parent context.Context
	depth  int
	next   atomic.Pointer[depthCtx]
}

func (*detachedCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*detachedCtx) Done() <-chan struct{}       { return nil }
func (*detachedCtx) Err() error                  { return nil }

// Value returns a depth marker for depthKey and defers to the publisher's
// context otherwise.
func (c *detachedCtx) Value(key any) any {
	if _, ok := key.(depthKey); ok {
		return c
	}
	return c.parent.Value(key)
}

func (c *detachedCtx) String() string {
	return "bus.detached(" + strconv.Itoa(c.depth) + ")"
}

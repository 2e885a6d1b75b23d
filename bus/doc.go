// Package bus is wtb's in-process publish/subscribe event bus.
//
// A Bus delivers every published event synchronously, in the publisher's
// goroutine, to the subscriptions that were live when the publish began, in
// the order they subscribed. Subscriptions select one event type (typed, with
// Subscribe), a set of types, a category, or every event. Each returns a
// *Subscription handle whose Close is idempotent and removes exactly that
// subscription.
//
// The hot path takes no mutex: the subscriptions matching each event type are
// kept in a copy-on-write snapshot behind an atomic pointer, rebuilt by
// Subscribe and Close. Handlers run outside every lock, so a handler may
// publish (nested publishes are delivered depth-first, up to a depth limit
// that fails with ErrMaxDepth), subscribe and unsubscribe.
//
// A handler that returns an error or panics is isolated: the remaining
// handlers still run, Publish does not fail because of it, and the failure is
// logged with log/slog and counted in Stats.
//
// The bus keeps a bounded history ring of the most recent events (1000 by
// default, WithHistory(0) disables it) and supports asynchronous
// subscriptions with a bounded queue and an explicit overflow policy (Async).
//
// Bridges (Bridge, SourceBridge, SinkBridge) connect the bus to outside event
// sources and sinks; enabling twice equals once, disabling removes exactly the
// bridge's own subscriptions, and a bridge never keeps a discarded Bus alive.
//
// # Cost
//
// Publishing a stamped event allocates nothing, with or without history, for
// synchronous, nested and asynchronous deliveries, as long as the publisher
// reuses its context (the handler contexts that carry the nesting depth are
// cached). Each publish costs one atomic add for the published count (or the
// history ring's mutex) and each delivery one atomic add for the
// subscription's exact delivered count; BenchmarkPublish measures the rest.
//
// # Limits
//
//   - History: WithHistory, default DefaultHistory (1000), at most MaxHistory.
//   - Nesting depth: WithMaxDepth, default DefaultMaxDepth (32), at most
//     MaxMaxDepth.
//   - Async queue: Async(size, policy) with 1 <= size <= MaxQueueSize.
//
// Invalid limits are programmer errors: New, Subscribe and the option
// constructors panic with a message naming the option and the value.
package bus

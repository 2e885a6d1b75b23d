// Package jetstream carries wtb events between machines through NATS
// JetStream (github.com/nats-io/nats.go's jetstream API): a durable buffer
// in front of the audit store.
//
//	producers (Publisher, NewBridge, wtb publish)
//	    -> stream WTB_EVENTS, subjects wtb.events.<category>.<wire name>
//	    -> durable pull consumer "wtb-recorder", shared by every wtb serve --nats
//	    -> audit.Recorder -> store commit -> acknowledgement
//
// # The stream
//
// EnsureStream creates or updates the stream (StreamConfig: name, subject
// prefix, MaxAge, MaxBytes, MaxMsgs, Replicas, Duplicates; every default
// is a constant of this package). It is a work queue: an event leaves the
// stream when a consumer acknowledges it, so the stream holds exactly the
// backlog, the events accepted and not yet recorded. It discards new
// events when full: a publisher is refused (and retries) rather than an
// accepted event being dropped. MaxAge is the one limit that deletes
// accepted events: one that no instance recorded within it is lost.
//
// # Producers
//
// Publisher publishes an event on <prefix>.<category>.<wire name> with
// header Nats-Msg-Id = event id, and returns only once JetStream
// acknowledged it (PublishBatch: every event of the batch, with Window in
// flight). The stream drops a repeated event id within its duplicates
// window, and the store records an event id once in any case, so any
// publish may be repeated. While NATS is unreachable or the stream is
// full, a publish retries with exponential backoff for RetryFor and then
// returns an error wrapping ErrNotAcknowledged that says why. NewBridge
// makes a Publisher a bus.Bridge: every event published on the bus is
// published to JetStream before bus.Publish returns.
//
// # Consumers
//
// StartConsumer records the stream through an audit.Recorder (wtb serve
// passes its own, so consumed events are counted and streamed like
// ingested ones). Every instance uses the same durable pull consumer, so
// each message goes to one instance at a time. Messages are gathered into
// groups (Batch) and submitted; a group's messages are acknowledged only
// after its store commit. A failed commit negatively acknowledges the
// group with a delay and pauses the instance with exponential backoff
// (RetryBackoff to MaxBackoff): while the store is down, nothing is
// acknowledged and JetStream keeps the backlog, within the stream's
// limits; when the store returns the backlog drains. A message not
// acknowledged within AckWait (an instance was killed) is delivered
// again, to any instance. Redeliveries are recorded once: the store is
// idempotent on event id. Messages that are not wtb events are terminated
// and counted. Metrics: wtb_jetstream_consumer_lag (pending plus
// unacknowledged), wtb_jetstream_backlog_age_seconds (age of the oldest
// event not yet recorded), wtb_jetstream_redeliveries_total, and
// received, acked, duplicates, invalid and commit failure counters.
//
// Order: the store's seq order is its commit order. With several
// instances, events published close together may be committed by
// different instances in a different order than they were published; each
// entry keeps its event's timestamp.
//
// # What a JetStream acknowledgement is worth
//
// A publish returns when the stream's leader has stored the event and, with
// Replicas > 1, a majority of the replicas have it. "Stored" means written
// to the server's files, not necessarily to disk: by default nats-server
// flushes to disk every two minutes (sync_interval), and an independent
// analysis in 2025 showed a NATS cluster losing acknowledged writes after
// power loss because of it. wtb counts a JetStream acknowledgement as
// durable only under these server settings:
//
//   - jetstream { sync_interval: always } on every server: each write is
//     flushed to disk before it is acknowledged (the tests' embedded servers
//     run so). It costs throughput; measure it on your disks.
//   - Replicas: 3 on a cluster of at least three servers in separate
//     failure domains: the loss of one server, or of its disk, loses
//     nothing acknowledged.
//
// With the defaults (one replica, sync every two minutes) an acknowledged
// event survives a crash of the nats-server process (the operating
// system still holds the writes) but not a crash or power loss of the
// machine within the sync interval. The audit store's own guarantee
// starts at the commit: an event is in the audit trail, with the store's
// durability, once a consumer has acknowledged it.
package jetstream

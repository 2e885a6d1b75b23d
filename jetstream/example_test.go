package jetstream_test

import (
	"context"
	"log"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/jetstream"
)

// A workflow's bus published to JetStream: every bus.Publish returns once
// JetStream has stored the event, and the wtb serve --nats instances record
// it.
func ExampleNewBridge() {
	nc, err := jetstream.Connect("nats://127.0.0.1:4222", "my-workflow", false, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	pub, err := jetstream.NewPublisher(nc, jetstream.PublisherOptions{})
	if err != nil {
		log.Fatal(err)
	}
	b := bus.New()
	bridge := jetstream.NewBridge(b, pub)
	if err := bridge.Enable(); err != nil {
		log.Fatal(err)
	}
	defer bridge.Disable()

	ev := event.New[event.ExecutionStarted]()
	ev.ExecutionID, ev.WorkflowID = "exec-1", "rag"
	_ = b.Publish(context.Background(), ev) // on wtb.events.execution.ExecutionStartedEvent
}

// Events published in a batch, acknowledged before PublishBatch returns.
func ExamplePublisher_PublishBatch() {
	nc, err := jetstream.Connect("nats://127.0.0.1:4222", "importer", false, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	pub, err := jetstream.NewPublisher(nc, jetstream.PublisherOptions{})
	if err != nil {
		log.Fatal(err)
	}
	var evs []event.Event // read from somewhere
	n, err := pub.PublishBatch(context.Background(), evs)
	if err != nil {
		log.Fatalf("%d acknowledged, then: %v", n, err) // publishing again is safe
	}
}

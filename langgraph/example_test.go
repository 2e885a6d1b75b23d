package langgraph_test

import (
	"fmt"
	"time"

	"github.com/wtbdev/wtb/langgraph"
)

// Two records of a LangGraph stream, a graph starting and its first node
// starting, become ExecutionStarted and NodeStarted of the thread's
// execution.
func ExampleTranslator() {
	tr := langgraph.NewTranslator(langgraph.Limits{})
	lines := []string{
		`{"event":"on_chain_start","name":"LangGraph","run_id":"r1","parent_ids":[],"tags":[],"metadata":{"thread_id":"t-1"},"data":{}}`,
		`{"event":"on_chain_start","name":"agent","run_id":"r2","parent_ids":["r1"],"tags":["graph:step:1"],"metadata":{"thread_id":"t-1","langgraph_node":"agent","langgraph_step":1},"data":{}}`,
	}
	for _, l := range lines {
		rec, err := langgraph.ParseRecord([]byte(l))
		if err != nil {
			panic(err)
		}
		evs, _, err := tr.Translate(nil, &rec, time.Now(), &langgraph.Options{})
		if err != nil {
			panic(err)
		}
		for _, ev := range evs {
			fmt.Println(ev.WireName())
		}
	}
	// Output:
	// ExecutionStartedEvent
	// NodeStartedEvent
}

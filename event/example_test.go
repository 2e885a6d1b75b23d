package event_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/wtbdev/wtb/event"
)

func ExampleDecode() {
	doc := []byte(`{"event_id": "e-17", "timestamp": "2026-01-27T10:00:00.037000",
		"execution_id": "exec-3", "node_id": "rank", "node_name": "rank",
		"error_message": "rate limited", "error_type": "TimeoutError",
		"duration_ms": 3319.27, "event_type": "NodeFailedEvent"}`)
	ev, err := event.Decode(doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	switch ev := ev.(type) {
	case *event.NodeFailed:
		fmt.Println(ev.WireName(), ev.NodeID, ev.ErrorType, ev.Recoverable, ev.Timestamp)
	}

	_, err = event.Decode([]byte(`{"event_type": "NodeFailedEvent", "event_id": "e-18",
		"timestamp": "2026-01-27T10:00:00", "duration_ms": "slow"}`))
	var de *event.DecodeError
	if errors.As(err, &de) && errors.Is(err, event.ErrFieldType) {
		fmt.Println(de.WireName, de.Field)
	}
	fmt.Println(err)
	// Output:
	// NodeFailedEvent rank TimeoutError true 2026-01-27 10:00:00.037 +0000 UTC
	// NodeFailedEvent duration_ms
	// event "NodeFailedEvent" field "duration_ms": wrong JSON type for field: cannot read JSON string as float64
}

func ExampleEncode() {
	ev := &event.CheckpointCreated{
		Base:         event.Base{ID: "0190a3c4-0000-7000-8000-000000000001", Timestamp: time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)},
		ExecutionID:  "exec-1",
		CheckpointID: "cp-1",
		Step:         2,
		NextNodes:    event.Strings{"grade"},
	}
	b, err := event.Encode(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))
	// Output:
	// {"event_type":"CheckpointCreated","event_id":"0190a3c4-0000-7000-8000-000000000001","timestamp":"2026-01-27T10:00:00Z","execution_id":"exec-1","checkpoint_id":"cp-1","step":2,"node_writes":{},"completed_node":null,"next_nodes":["grade"],"is_terminal":false}
}

func ExampleTypes() {
	for _, t := range event.Types() {
		if t.Category == event.CategoryCheckpoint {
			fmt.Println(t.Name, t.WireNames, t.Aliases)
		}
	}
	fmt.Println(len(event.Types()), "types,", len(event.TypesIn(event.CategoryRay)), "in", event.CategoryRay)
	// Output:
	// CheckpointCreated [CheckpointCreated] [CheckpointCreatedEvent]
	// RollbackRequested [RollbackRequested] []
	// RollbackCompleted [RollbackCompleted] [RollbackPerformedEvent]
	// RollbackFailed [RollbackFailed] []
	// NodeBoundaryRecorded [NodeBoundaryRecorded] []
	// ExecutionHistoryLoaded [ExecutionHistoryLoaded] []
	// BranchCreated [BranchCreatedEvent] []
	// 83 types, 17 in ray
}

func ExampleDecodeAs() {
	// The type travels outside the document, as in a CloudEvents envelope.
	ev, err := event.DecodeAs("tool_completed", []byte(`{"event_id": "lg-1",
		"timestamp": "2026-01-27T10:00:00Z", "thread_id": "exec-1", "duration_ms": 12}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	lg := ev.(*event.LangGraphAudit)
	fmt.Println(lg.Kind, lg.ThreadID, *lg.DurationMS)
	// Output: tool_completed exec-1 12
}

func ExampleNew() {
	ev := event.New[event.NodeFailed]()
	ev.ExecutionID, ev.NodeID = "exec-1", "grade"
	fmt.Println(ev.WireName(), ev.Recoverable, ev.ID != "", ev.Timestamp.Location())
	// Output: NodeFailedEvent true true UTC
}

func ExampleEnvironmentCreated_EnvID() {
	v1 := "v1"
	ev := &event.EnvironmentCreated{WorkflowID: "wf-001", NodeID: "node-a", VersionID: &v1}
	fmt.Println(ev.EnvID())
	// Output: wf-001_node-a_v1
}

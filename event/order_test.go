package event_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/event"
)

// TestFinalStateKeyOrder: final_state keeps the key order of the document,
// as a Python dict keeps insertion order, through FinalStateKeys and Encode.
func TestFinalStateKeyOrder(t *testing.T) {
	doc := `{"event_type":"ExecutionCompletedEvent","event_id":"e1","timestamp":"2026-01-27T10:00:00",` +
		`"final_state":{"zeta":1,"alpha":{"y":1,"x":2},"mid":"m","alpha":3}}`
	ev, err := event.Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ec := ev.(*event.ExecutionCompleted)
	want := []string{"zeta", "alpha", "mid"} // a repeated key keeps its first place
	if got := ec.FinalStateKeys(); !slices.Equal(got, want) {
		t.Fatalf("FinalStateKeys = %q, want %q", got, want)
	}
	enc, err := event.Encode(ec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(enc), `"final_state":{"zeta":1,"alpha":3,"mid":"m"}`) {
		t.Fatalf("Encode does not keep the order: %s", enc)
	}
	again, err := event.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.(*event.ExecutionCompleted).FinalStateKeys(); !slices.Equal(got, want) {
		t.Fatalf("after a round trip: %q, want %q", got, want)
	}

	// A changed key set falls back to sorted keys, and so does an event
	// built in Go (a Go map has no order).
	ec.FinalState["new"] = true
	if got := ec.FinalStateKeys(); !slices.Equal(got, []string{"alpha", "mid", "new", "zeta"}) {
		t.Fatalf("after a change: %q", got)
	}
	built := &event.ExecutionCompleted{FinalState: event.Map{"b": 1, "a": 2}}
	if got := built.FinalStateKeys(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("built in Go: %q", got)
	}
	if got := (&event.ExecutionCompleted{}).FinalStateKeys(); len(got) != 0 {
		t.Fatalf("no final state: %q", got)
	}
}

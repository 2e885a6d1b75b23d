package otlp_test

import (
	"fmt"

	"github.com/wtbdev/wtb/otlp"
)

// An OTLP/HTTP JSON request with one workflow span becomes the start and
// the completion of its execution, named by the trace id.
func ExampleTranslator() {
	body := []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{
		"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
		"name":"invoke_workflow triage","startTimeUnixNano":"1764400000000000000","endTimeUnixNano":"1764400001500000000",
		"attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"invoke_workflow"}},
			{"key":"gen_ai.workflow.name","value":{"stringValue":"triage"}}],
		"status":{"code":1}}]}]}]}`)
	td, err := otlp.DecodeRequest(body, otlp.JSON)
	if err != nil {
		panic(err)
	}
	evs, res := otlp.NewTranslator(otlp.Limits{}).Translate(nil, td, nil)
	for _, ev := range evs {
		fmt.Println(ev.WireName(), ev.EventTime().Format("15:04:05.0"))
	}
	fmt.Println("spans", res.Spans, "rejected", res.Rejected)
	// Output:
	// ExecutionStartedEvent 07:06:40.0
	// ExecutionCompletedEvent 07:06:41.5
	// spans 1 rejected 0
}

package audit_test

import (
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

func TestBatchOf(t *testing.T) {
	var es []audit.Entry
	add := func(ev event.Event) {
		e := audit.FromEvent(ev)
		e.Seq = int64(len(es) + 1)
		es = append(es, e)
	}
	st := event.New[event.RayBatchTestStarted]()
	st.BatchTestID, st.WorkflowID, st.VariantCount = "batch-1", "wf", 3
	add(st)
	for i, name := range []string{"fast", "slow", "broken"} {
		s := event.New[event.RayVariantExecutionStarted]()
		s.BatchTestID, s.ExecutionID, s.CombinationName, s.ActorID = "batch-1", "var-"+name, name, "actor-"+name
		add(s)
		switch i {
		case 0, 1:
			c := event.New[event.RayVariantExecutionCompleted]()
			c.BatchTestID, c.ExecutionID, c.CombinationName = "batch-1", "var-"+name, name
			c.OverallScore, c.DurationMS, c.NodeCount = 0.5+float64(i)*0.25, int64(100*(i+1)), 4
			c.Metrics = event.FloatMap{"accuracy": 0.9}
			add(c)
		default:
			f := event.New[event.RayVariantExecutionFailed]()
			f.BatchTestID, f.ExecutionID, f.CombinationName = "batch-1", "var-"+name, name
			f.ErrorType, f.ErrorMessage, f.DurationMS = "ValueError", "bad tool output", 42
			node := "grade"
			f.FailedAtNode = &node
			add(f)
		}
	}
	b := audit.BatchOf(audit.Summarize("batch-1", es), es)
	if len(b.Variants) != 3 {
		t.Fatalf("variants %+v", b.Variants)
	}
	fast, slow, broken := b.Variants[0], b.Variants[1], b.Variants[2]
	if fast.ExecutionID != "var-fast" || fast.Name != "fast" || fast.Actor != "actor-fast" || fast.Status != "completed" ||
		fast.Score == nil || *fast.Score != 0.5 || string(fast.Metrics) != `{"accuracy":0.9}` || *fast.DurationMS != 100 {
		t.Errorf("fast %+v", fast)
	}
	if slow.Score == nil || *slow.Score != 0.75 {
		t.Errorf("slow %+v", slow)
	}
	if broken.Status != "failed" || broken.Error != "ValueError: bad tool output" || broken.FailedAtNode != "grade" || broken.Score != nil {
		t.Errorf("broken %+v", broken)
	}
}

package console_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/wtbdev/wtb/event"
)

// domSeqs returns the seqs of the timeline rows in the DOM.
const domSeqs = `[...document.querySelectorAll('.timeline .tl-row')].map(r => +r.dataset.seq).sort((a, b) => a - b)`

// checkDOMEqualsAPI fails unless the timeline's rows are exactly the
// API's entries of exec: none missing, none twice.
func checkDOMEqualsAPI(t *testing.T, s *server, ctx interface{ Done() <-chan struct{} }, got []int64, exec string) {
	t.Helper()
	want := s.seqs(exec)
	if !slices.Equal(got, want) {
		t.Fatalf("DOM holds seqs %v, the API %v", got, want)
	}
}

// 1. Open the console, ingest an execution over HTTP, and see its rows and
// entries appear without a reload.
func TestBrowserLiveList(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, filepath.Join(t.TempDir(), "wtb.db"), "", "")
	run(t, ctx, chromedp.Navigate(s.url+"/"))
	waitFor(t, ctx, "the executions table", `document.querySelector('table.executions') && document.querySelector('.live-pill').dataset.state === 'live'`)
	r := newRun("exec-live", time.Now().Add(-2*time.Second)).start("rag").node("plan", 120, "")
	s.post(r.evs...)
	waitFor(t, ctx, "the new row", `document.querySelector('tr[data-exec="exec-live"]')`)
	reloaded := eval[bool](t, ctx, `performance.getEntriesByType('navigation').length === 1 && performance.getEntriesByType('navigation')[0].type === 'reload'`)
	if reloaded {
		t.Fatal("the page reloaded")
	}
	// More executions make the list worth a screenshot.
	for i, st := range []string{"", "fail", "pause"} {
		x := newRun(fmt.Sprintf("exec-%c-%d", 'a'+i, i), time.Now().Add(-time.Duration(10+i)*time.Minute)).start("triage").node("plan", 300, "").node("act", 900, map[bool]string{true: "TimeoutError: tool took too long"}[st == "fail"])
		if st == "" {
			x.complete()
		}
		s.post(x.evs...)
	}
	waitFor(t, ctx, "the other rows", `document.querySelectorAll('tr.exec-row').length === 4`)
	// Rows that arrive live take their place newest first, like a reload's.
	order := eval[[]string](t, ctx, `[...document.querySelectorAll('tr.exec-row')].map(r => r.dataset.exec)`)
	if want := []string{"exec-live", "exec-a-0", "exec-b-1", "exec-c-2"}; !slices.Equal(order, want) {
		t.Fatalf("rows in the order %v, want newest first %v", order, want)
	}
	screenshot(t, ctx, "executions")

	run(t, ctx, chromedp.Click(chromedp.CSS(`tr[data-exec="exec-live"] a`)))
	waitFor(t, ctx, "the execution's live stream", `document.querySelector('.exec .live-pill') && document.querySelector('.exec .live-pill').dataset.state === 'live'`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`input[name=debug]`)))
	r.evs = nil
	r.node("retrieve", 300, "").node("answer", 500, "")
	s.post(r.evs...)
	want := s.seqs("exec-live")
	waitFor(t, ctx, "the new entries", fmt.Sprintf(`document.querySelectorAll('.timeline .tl-row').length === %d`, len(want)))
	got := eval[[]int64](t, ctx, domSeqs)
	checkDOMEqualsAPI(t, s, ctx, got, "exec-live")
	screenshot(t, ctx, "execution-live")
}

// 2. Open the execution: the waterfall has one bar per node run, and the
// failed node is red.
func TestBrowserWaterfall(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, filepath.Join(t.TempDir(), "wtb.db"), "", "")
	r := newRun("exec-wf", time.Now().Add(-time.Minute)).start("rag").
		node("plan", 400, "").node("retrieve", 900, "").node("grade", 1500, "RateLimitError: 429").
		node("grade", 700, "").node("generate", 2100, "").node("review", 600, "").rollback("3", "generate", "review").
		node("generate", 1800, "").node("review", 500, "").complete()
	s.post(r.evs...)
	run(t, ctx, chromedp.Navigate(s.url+"/executions/exec-wf"))
	waitFor(t, ctx, "the waterfall", `document.querySelectorAll('.wf-bar').length === 8`)
	failed := eval[[]string](t, ctx, `[...document.querySelectorAll('.wf-bar.failed')].map(b => b.dataset.node + ' ' + getComputedStyle(b).backgroundColor)`)
	if len(failed) != 1 || failed[0] != "grade rgb(209, 52, 59)" {
		t.Fatalf("failed bars %q, want one red bar for grade", failed)
	}
	others := eval[[]string](t, ctx, `[...document.querySelectorAll('.wf-bar:not(.failed)')].map(b => getComputedStyle(b).backgroundColor)`)
	for _, c := range others {
		if c == "rgb(209, 52, 59)" {
			t.Fatal("a bar that did not fail is red")
		}
	}
	widths := eval[[]float64](t, ctx, `[...document.querySelectorAll('.wf-bar')].map(b => b.getBoundingClientRect().width)`)
	for _, w := range widths {
		if w < 1 {
			t.Fatalf("bar widths %v: a bar is not drawn", widths)
		}
	}
	lineage := eval[int](t, ctx, `document.querySelectorAll('.lineage circle.lg-cp').length + document.querySelectorAll('.lineage .lg-rollback').length * 100`)
	if lineage != 7+100 {
		t.Fatalf("lineage: %d (checkpoints + 100 x rollbacks), want 107", lineage)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`.wf-bar.failed`)))
	waitFor(t, ctx, "the failed run's entry", `document.querySelector('pre.json').textContent.includes('RateLimitError: 429')`)
	screenshot(t, ctx, "execution")
}

// 3. Kill the server (SIGKILL), post more events after the restart, and see
// the page resume: the DOM holds exactly the entries the API holds.
func TestBrowserResumeAfterKill(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, filepath.Join(t.TempDir(), "wtb.db"), "", "")
	r := newRun("exec-kill", time.Now().Add(-time.Minute)).start("rag")
	for i := range 6 {
		r.node(fmt.Sprintf("step-%d", i), 50, "")
	}
	s.post(r.evs...)
	run(t, ctx, chromedp.Navigate(s.url+"/executions/exec-kill?debug=1"))
	waitFor(t, ctx, "the entries", fmt.Sprintf(`document.querySelectorAll('.timeline .tl-row').length === %d && document.querySelector('.exec .live-pill').dataset.state === 'live'`, len(s.seqs("exec-kill"))))

	s.kill()
	waitFor(t, ctx, "the reconnecting status", `document.querySelector('.exec .live-pill').dataset.state === 'reconnecting'`)
	pill := eval[string](t, ctx, `document.querySelector('.exec .live-pill').textContent`)
	if !strings.Contains(pill, "reconnecting") {
		t.Fatalf("status %q", pill)
	}
	s.start()
	for round := range 3 {
		r.evs = nil
		for i := range 5 {
			r.node(fmt.Sprintf("after-%d-%d", round, i), 20, "")
		}
		s.post(r.evs...)
	}
	want := s.seqs("exec-kill")
	waitFor(t, ctx, "every entry after the restart", fmt.Sprintf(`document.querySelectorAll('.timeline .tl-row').length >= %d && document.querySelector('.exec .live-pill').textContent.includes('seq %d')`, len(want), want[len(want)-1]))
	got := eval[[]int64](t, ctx, domSeqs)
	checkDOMEqualsAPI(t, s, ctx, got, "exec-kill")
	model := eval[[]int64](t, ctx, `window.wtbConsole.seqs()`)
	if !slices.Equal(model, want) {
		t.Fatalf("the page's entries %v, the API's %v", model, want)
	}
	screenshot(t, ctx, "execution-resumed")
}

// 4. Compare two runs: the first divergence is the one expected.
func TestBrowserCompare(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, filepath.Join(t.TempDir(), "wtb.db"), "", "")
	at := time.Now().Add(-time.Hour)
	a := newRun("run-a", at).start("rag").node("plan", 800, "").node("retrieve", 1600, "").node("grade", 1200, "").node("generate", 4300, "").complete()
	b := newRun("run-b", at.Add(time.Minute)).start("rag").node("plan", 850, "").node("retrieve", 1500, "").
		node("grade", 3000, "RateLimitError: 429 Too Many Requests").node("grade", 1300, "").node("generate", 3900, "").complete()
	s.post(a.evs...)
	s.post(b.evs...)
	// A batch whose two variants are these runs.
	st := event.New[event.RayBatchTestStarted]()
	st.BatchTestID, st.WorkflowID, st.VariantCount = "batch-7", "rag", 2
	evs := []event.Event{st}
	for i, v := range []string{"run-a", "run-b"} {
		vs := event.New[event.RayVariantExecutionStarted]()
		vs.BatchTestID, vs.ExecutionID, vs.CombinationName, vs.ActorID = "batch-7", v, "variant-"+v[4:], "actor-1"
		vc := event.New[event.RayVariantExecutionCompleted]()
		vc.BatchTestID, vc.ExecutionID, vc.CombinationName = "batch-7", v, "variant-"+v[4:]
		vc.OverallScore, vc.DurationMS, vc.Metrics = 0.91-float64(i)*0.12, int64(8000+i*2500), event.FloatMap{"faithfulness": 0.93 - float64(i)*0.1}
		evs = append(evs, vs, vc)
	}
	s.post(evs...)
	run(t, ctx, chromedp.Navigate(s.url+"/batches/batch-7"))
	waitFor(t, ctx, "the variants", `document.querySelectorAll('tr[data-variant]').length === 2`)
	screenshot(t, ctx, "batch")
	run(t, ctx,
		chromedp.Click(chromedp.CSS(`tr[data-variant="run-a"] input[type=checkbox]`)),
		chromedp.Click(chromedp.CSS(`tr[data-variant="run-b"] input[type=checkbox]`)),
		chromedp.Click(chromedp.CSS(`button.primary:not([disabled])`)))
	waitFor(t, ctx, "the comparison", `document.querySelector('.banner.diverge')`)
	dv := eval[struct {
		Step, Kind, Row, Path string
	}](t, ctx, `({Step: document.querySelector('.banner.diverge').dataset.step, Kind: document.querySelector('.banner.diverge').dataset.kind,
		Row: document.querySelector('tr.step.diverge').dataset.step, Path: location.pathname + location.search})`)
	if dv.Step != "2" || dv.Kind != "node" || dv.Row != "2" || !strings.Contains(dv.Path, "a=run-a&b=run-b&batch=batch-7") {
		t.Fatalf("divergence %+v, want step 2 (the failed grade only B ran), kind node", dv)
	}
	text := eval[string](t, ctx, `document.querySelector('.banner.diverge').textContent`)
	if !strings.Contains(text, `B has node "grade" (failed: Error: RateLimitError`) {
		t.Fatalf("divergence text %q", text)
	}
	screenshot(t, ctx, "compare")
}

// 5. With tokens on: no token in any URL, and a wrong token gets a clear
// message.
func TestBrowserTokens(t *testing.T) {
	var mu sync.Mutex
	var urls []string
	ctx := browser(t, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			urls = append(urls, e.Request.URL+" "+e.DocumentURL)
			mu.Unlock()
		}
	})
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	const good, wrong = "console-secret-token-1", "wrong-token-2"
	if err := os.WriteFile(tokens, []byte(good+" read,ingest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, filepath.Join(dir, "wtb.db"), tokens, good)
	s.post(newRun("exec-tok", time.Now()).start("rag").node("plan", 10, "").evs...)
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, chromedp.Navigate(s.url+"/"))
	waitFor(t, ctx, "the token dialog", `document.querySelector('#token-dialog').open`)
	run(t, ctx, chromedp.SendKeys(chromedp.CSS(`#token-input`), wrong), chromedp.Click(chromedp.CSS(`#token-form button[type=submit]`)))
	waitFor(t, ctx, "the refusal", `document.querySelector('#token-dialog').open && document.querySelector('#token-error').textContent.includes('refused')`)
	msg := eval[string](t, ctx, `document.querySelector('#token-error').textContent`)
	if !strings.Contains(msg, "invalid bearer token") {
		t.Fatalf("message %q does not say why", msg)
	}
	screenshot(t, ctx, "token")
	run(t, ctx, chromedp.SendKeys(chromedp.CSS(`#token-input`), good), chromedp.Click(chromedp.CSS(`#token-form button[type=submit]`)))
	waitFor(t, ctx, "the list", `document.querySelector('tr[data-exec="exec-tok"]') && document.querySelector('.live-pill').dataset.state === 'live'`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`tr[data-exec="exec-tok"] a`)))
	waitFor(t, ctx, "the execution", `document.querySelector('.exec .live-pill') && document.querySelector('.exec .live-pill').dataset.state === 'live'`)
	href := eval[string](t, ctx, `location.href`)
	mu.Lock()
	defer mu.Unlock()
	urls = append(urls, href)
	for _, u := range urls {
		if strings.Contains(u, good) || strings.Contains(u, wrong) {
			t.Fatalf("a token appears in a URL: %s", u)
		}
	}
	if len(urls) < 5 {
		t.Fatalf("only %d requests seen", len(urls))
	}
}

// 6. Keyboard-only navigation through the list and the timeline.
func TestBrowserKeyboard(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, filepath.Join(t.TempDir(), "wtb.db"), "", "")
	now := time.Now()
	s.post(newRun("kb-old", now.Add(-2*time.Hour)).start("rag").node("plan", 10, "").complete().evs...)
	s.post(newRun("kb-new", now.Add(-time.Hour)).start("rag").node("plan", 10, "").node("act", 20, "").complete().evs...)
	run(t, ctx, chromedp.Navigate(s.url+"/"))
	waitFor(t, ctx, "the rows", `document.querySelectorAll('tr.exec-row').length === 2`)
	run(t, ctx, chromedp.Focus(chromedp.CSS(`table.executions`)), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown))
	sel := eval[string](t, ctx, `document.querySelector('tr.exec-row.selected').dataset.exec`)
	if sel != "kb-old" {
		t.Fatalf("selected %q after two ArrowDown, want kb-old (newest first)", sel)
	}
	run(t, ctx, chromedp.KeyEvent(kb.ArrowUp), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the execution page", `location.pathname === '/executions/kb-new' && document.querySelectorAll('.timeline .tl-row').length > 3`)
	run(t, ctx, chromedp.Focus(chromedp.CSS(`.timeline`)), chromedp.KeyEvent(kb.Home), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Enter))
	picked := eval[string](t, ctx, `document.querySelector('pre.json').dataset.seq`)
	third := eval[string](t, ctx, `document.querySelectorAll('.timeline .tl-row')[2].dataset.seq`)
	if picked == "" || picked != third {
		t.Fatalf("Enter on the third row showed seq %q, want %q", picked, third)
	}
	focused := eval[string](t, ctx, `document.activeElement.className`)
	if !strings.Contains(focused, "timeline") {
		t.Fatalf("focus moved to %q", focused)
	}
}

// consoleFigures are what measureConsole measured.
type consoleFigures struct {
	// UsableMS is how long after navigation start an execution of 10,002
	// entries was usable (its first page of entries rendered).
	UsableMS float64
	// HeapMB is the page's JS heap once it held them all.
	HeapMB float64
	// LiveP50MS, LiveP99MS and LiveMaxMS are how far behind the server the
	// page was during the live run: entry timestamp to rendered.
	LiveP50MS, LiveP99MS, LiveMaxMS float64
	// LiveEntries is the number of live entries.
	LiveEntries int
}

// measureConsole opens an execution of 10,002 entries, then follows a live
// run recording 1,000 entries a second for liveSeconds, and measures both.
// It fails tb unless the functional guarantees hold: every entry held, each
// once and in seq order; a virtualised timeline and waterfall (a bounded
// number of rows in the DOM); bounded page memory.
func measureConsole(tb testing.TB, liveSeconds int) consoleFigures {
	var fig consoleFigures
	ctx := browser(tb)
	s := startServer(tb, filepath.Join(tb.TempDir(), "wtb.db"), "", "")
	big := newRun("exec-10k", time.Now().Add(-time.Hour)).start("bulk")
	for i := 0; len(big.evs) < 9999; i++ {
		big.node(fmt.Sprintf("node-%d", i%40), 15, map[bool]string{true: "flaky"}[i%97 == 0])
	}
	big.complete()
	for i := 0; i < len(big.evs); i += 5000 {
		s.post(big.evs[i:min(i+5000, len(big.evs))]...)
	}
	run(tb, ctx, chromedp.Navigate(s.url+"/executions/exec-10k?debug=1"))
	waitFor(tb, ctx, "the page", `window.wtbConsole.stats.usableAt > 0 && document.querySelectorAll('.timeline .tl-row').length > 0`)
	fig.UsableMS = eval[float64](tb, ctx, `window.wtbConsole.stats.usableAt`)
	waitFor(tb, ctx, "every entry", fmt.Sprintf(`window.wtbConsole.seqs().length >= %d`, len(big.evs)))
	m := eval[struct {
		Heap       float64
		Rows, Bars int
	}](tb, ctx, `({Heap: performance.memory ? performance.memory.usedJSHeapSize : 0,
		Rows: document.querySelectorAll('.timeline .tl-row').length, Bars: document.querySelectorAll('.wf-bar').length})`)
	fig.HeapMB = m.Heap / 1e6
	if got, want := eval[[]int64](tb, ctx, `window.wtbConsole.seqs()`), s.seqs("exec-10k"); !slices.Equal(got, want) {
		tb.Fatalf("the page holds %d entries, the API %d: not the same", len(got), len(want))
	}
	if m.Rows > maxDOMRows || m.Bars > maxDOMRows {
		tb.Fatalf("%d timeline rows and %d waterfall bars in the DOM for %d entries: not virtualised (at most %d)", m.Rows, m.Bars, len(big.evs), maxDOMRows)
	}
	if fig.HeapMB > maxHeapMB {
		tb.Fatalf("JS heap %.1f MB holding 10,002 entries, want at most %d MB", fig.HeapMB, maxHeapMB)
	}
	tb.Logf("10,002 entries: usable %.0f ms after navigation start; %d timeline rows and %d waterfall bars in the DOM; JS heap %.1f MB",
		fig.UsableMS, m.Rows, m.Bars, fig.HeapMB)

	// A live run at 1,000 entries a second, sent in batches of 50.
	live := newRun("exec-rate", time.Now()).start("live")
	s.post(live.evs...)
	run(tb, ctx, chromedp.Navigate(s.url+"/executions/exec-rate?debug=1"))
	waitFor(tb, ctx, "the live stream", `document.querySelector('.exec .live-pill') && document.querySelector('.exec .live-pill').dataset.state === 'live'`)
	eval[int](tb, ctx, `window.wtbConsole.stats.latencies.length = 0`)
	const rate, batch = 1000, 50
	tick := time.NewTicker(time.Second * batch / rate)
	sent := 0
	for sent < rate*liveSeconds {
		<-tick.C
		var evs []event.Event
		for range batch {
			ev := event.New[event.NodeStarted]() // timestamped now
			ev.ExecutionID, ev.NodeID, ev.NodeName = "exec-rate", fmt.Sprintf("n%d", sent%16), "n"
			evs = append(evs, ev)
			sent++
		}
		s.post(evs...)
	}
	tick.Stop()
	waitFor(tb, ctx, "every live entry", fmt.Sprintf(`window.wtbConsole.stats.latencies.length >= %d`, sent))
	if got, want := eval[[]int64](tb, ctx, `window.wtbConsole.seqs()`), s.seqs("exec-rate"); !slices.Equal(got, want) {
		tb.Fatalf("after the live run the page holds %d entries, the API %d: not the same", len(got), len(want))
	}
	lat := eval[[]float64](tb, ctx, `window.wtbConsole.stats.latencies`)
	sort.Float64s(lat)
	p := func(q float64) float64 { return lat[int(q*float64(len(lat)-1))] }
	fig.LiveEntries, fig.LiveP50MS, fig.LiveP99MS, fig.LiveMaxMS = len(lat), p(0.5), p(0.99), lat[len(lat)-1]
	tb.Logf("live at %d entries/s for %ds: %d entries, latency p50 %.0f ms, p99 %.0f ms, max %.0f ms (entry timestamp to rendered, browser clock)",
		rate, liveSeconds, len(lat), fig.LiveP50MS, fig.LiveP99MS, fig.LiveMaxMS)
	return fig
}

// Bounds of the functional checks of measureConsole.
const (
	maxDOMRows = 200 // timeline rows or waterfall bars in the DOM
	maxHeapMB  = 64  // JS heap holding 10,002 entries
)

// Performance targets of the console (issue 9), checked by
// BenchmarkBrowserConsole.
const (
	targetUsableMS  = 1000 // an execution of 10,000 entries usable within 1 s of opening
	targetLiveP99MS = 1000 // a live run at 1,000 entries/s: the page within 1 s of the server, p99
)

// TestBrowserLargeExecution is the functional side of the performance
// targets, reliable on a busy machine: an execution of 10,002 entries is
// held whole with a virtualised timeline and waterfall and bounded memory,
// and a live run at 1,000 entries a second arrives whole, each entry once,
// in order. The figures are logged; BenchmarkBrowserConsole checks them
// against the targets.
func TestBrowserLargeExecution(t *testing.T) {
	if testing.Short() {
		t.Skip("records 13,000 entries")
	}
	measureConsole(t, 3)
}

// BenchmarkBrowserConsole measures the console against its targets and
// fails when it misses one: an execution of 10,000 entries usable within
// 1 s of opening, and a live run at 1,000 entries a second for 10 s
// followed within 1 s of the server (p99, in the browser's clock). Run it
// on a machine that is not saturated:
//
//	go test -run '^$' -bench BrowserConsole -benchtime 1x ./console
func BenchmarkBrowserConsole(b *testing.B) {
	for range b.N {
		fig := measureConsole(b, 10)
		b.ReportMetric(fig.UsableMS, "open-10k-ms")
		b.ReportMetric(fig.HeapMB, "heap-MB")
		b.ReportMetric(fig.LiveP50MS, "live-p50-ms")
		b.ReportMetric(fig.LiveP99MS, "live-p99-ms")
		writeResult(b, "open_10k_usable_ms", fig.UsableMS)
		writeResult(b, "open_10k_heap_mb", fig.HeapMB)
		writeResult(b, "live_1000_per_s_p99_ms", fig.LiveP99MS)
		if fig.UsableMS > targetUsableMS {
			b.Errorf("10,000 entries usable after %.0f ms, target %d ms", fig.UsableMS, targetUsableMS)
		}
		if fig.LiveP99MS > targetLiveP99MS {
			b.Errorf("live p99 %.0f ms behind the server, target %d ms", fig.LiveP99MS, targetLiveP99MS)
		}
	}
}

// writeResult appends a figure to $WTB_BROWSER_RESULTS (JSON lines), when set.
func writeResult(t testing.TB, name string, v float64) {
	path := os.Getenv("WTB_BROWSER_RESULTS")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := json.Marshal(map[string]any{"name": name, "value": v, "at": time.Now().UTC()})
	f.Write(append(b, '\n'))
}

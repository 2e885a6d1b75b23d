package httpapi

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// writeHealth tracks whether the store's writes fail. After a failed write
// (one the recorder gave up on after its retries) ingest fails fast for
// Options.FailFastWindow instead of queueing behind the failing writer;
// then one request is let through at a time to try again, and the first
// write that succeeds ends the failing state.
type writeHealth struct {
	mu      sync.Mutex
	failing bool
	until   time.Time // fail fast until then
	probe   bool      // a request is trying a write after the window
	err     error     // the last failure
}

// admit decides whether a request may write. It returns the error to
// answer instead, and whether the request is the probe of a failing store.
func (h *writeHealth) admit(now time.Time) (probe bool, wait time.Duration, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.failing {
		return false, 0, nil
	}
	if now.Before(h.until) || h.probe {
		wait = max(h.until.Sub(now), time.Second)
		return false, wait, h.err
	}
	h.probe = true
	return true, 0, nil
}

// done records the outcome of a write that was admitted.
func (h *writeHealth) done(probe bool, err error, window time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if probe {
		h.probe = false
	}
	if err == nil {
		h.failing = false
		h.err = nil
		return
	}
	h.failing = true
	h.until = time.Now().Add(window)
	h.err = err
}

// release ends a probe whose write outcome is unknown (the client left,
// the server closes): the next request tries again.
func (h *writeHealth) release() {
	h.mu.Lock()
	h.probe = false
	h.mu.Unlock()
}

// state reports whether writes are failing, and the last failure.
func (h *writeHealth) state() (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failing, h.err
}

// storeFailure reports whether err, from a recorder receipt, is a failure
// of the store (as opposed to the client leaving, an invalid entry or the
// shutdown).
func storeFailure(r *http.Request, err error) bool {
	return err != nil && r.Context().Err() == nil && !errors.Is(err, audit.ErrInvalidEntry) &&
		!errors.Is(err, audit.ErrRecorderClosed)
}

// record submits entries as one group and waits until they are durable:
// the one way the ingest routes write. While the store's writes fail it
// answers 503 at once (with Retry-After) for Options.FailFastWindow.
func (s *Server) record(r *http.Request, entries []audit.Entry) (audit.AppendResult, *apiError) {
	probe, wait, ferr := s.health.admit(time.Now())
	if ferr != nil {
		e := newError(http.StatusServiceUnavailable, CodeUnavailable,
			"not recorded: the store's writes are failing ("+ferr.Error()+"); retry in "+wait.Round(time.Second).String())
		e.retryAfter = int(wait.Round(time.Second) / time.Second)
		return audit.AppendResult{}, e
	}
	receipt, err := s.rec.Submit(r.Context(), entries)
	if err != nil {
		if probe {
			s.health.release()
		}
		return audit.AppendResult{}, s.recordError(r, err)
	}
	res, err := receipt.Wait(r.Context())
	switch {
	case err == nil:
		s.health.done(probe, nil, 0)
	case storeFailure(r, err):
		s.health.done(probe, err, s.opts.FailFastWindow)
	case probe:
		s.health.release()
	}
	if err != nil {
		e := s.recordError(r, err)
		if e.status == http.StatusServiceUnavailable {
			e.retryAfter = 1
		}
		return audit.AppendResult{}, e
	}
	return res, nil
}

package httpapi

import "github.com/wtbdev/wtb/audit"

// Recorder returns the recorder the server writes through, for other
// sources of events in the same process (a JetStream consumer): what they
// submit is committed, counted and streamed like ingested events. Stop
// them before closing the server.
func (s *Server) Recorder() *audit.Recorder { return s.rec }

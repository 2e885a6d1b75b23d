package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIDocument is the OpenAPI 3.1 document of the API, generated from
// the route table (go generate ./httpapi; a test fails when it is stale).
//
//go:generate go test . -run ^TestOpenAPIDocument$ -update
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 document of the API, as served at
// GET /v1/openapi.json: every route with its parameters, request and
// answer bodies and their JSON Schemas, the schema of each event type, and
// the scope each route needs.
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

// handleOpenAPI serves the OpenAPI document. It needs no token: the shape
// of the API is the same for every wtb of this version and tells nothing
// about what a server holds.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) *apiError {
	h := w.Header()
	h.Set("Content-Type", MediaJSON)
	h.Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument)
	return nil
}

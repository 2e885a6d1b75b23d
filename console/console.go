// Package console is the wtb web console: a page that lists executions,
// follows one live (waterfall of node runs, lineage of checkpoints,
// rollbacks, branches and forks, the event timeline, each entry's JSON),
// shows Ray batch tests with their variants and compares two runs.
//
// The assets are embedded in the binary; Handler serves them with strict
// headers (a Content-Security-Policy that allows no other origin, no
// inline script or style). The page reads data only through the public
// HTTP API (package httpapi), with the bearer token the user gives it,
// kept in the tab's sessionStorage and sent in the Authorization header:
// live entries are read with fetch() and a stream reader rather than
// EventSource, which cannot send that header.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assets embed.FS

// ContentSecurityPolicy is the policy of every answer of Handler: the
// page's own scripts, styles and API only.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Pages are the path prefixes of the console's views; each is answered
// with the page, which routes on the path itself (deep links).
var Pages = []string{"/", "/executions/", "/compare", "/batches/"}

// Handler serves the console: /assets/... from the embedded files, the
// page for the paths of its views, 404 for anything else.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean(r.URL.Path)
		if strings.HasPrefix(p, "/assets/") {
			h.Set("Cache-Control", "no-cache")
			r2 := r.Clone(r.Context())
			r2.URL.Path = strings.TrimPrefix(p, "/assets")
			files.ServeHTTP(w, r2)
			return
		}
		if !isPage(p) {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
}

func isPage(p string) bool {
	if p == "/" || p == "/compare" {
		return true
	}
	for _, pre := range []string{"/executions/", "/batches/"} {
		if strings.HasPrefix(p, pre) && len(p) > len(pre) {
			return true
		}
	}
	return false
}

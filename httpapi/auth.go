package httpapi

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
)

// Scope is a permission a token grants.
type Scope string

// The scopes of a token.
const (
	// ScopeIngest allows the ingest routes: POST /v1/events,
	// /v1/langgraph/events and /v1/traces.
	ScopeIngest Scope = "ingest"
	// ScopeRead allows the query routes, the live streams and /metrics.
	ScopeRead Scope = "read"
)

// MaxTokens bounds the number of tokens a tokens file may hold; MaxTokenLine
// bounds the length of one of its lines, in bytes.
const (
	MaxTokens    = 10000
	MaxTokenLine = 4096
)

type token struct {
	hash   [sha256.Size]byte
	ingest bool
	read   bool
}

// Tokens is a set of bearer tokens with their scopes. Tokens are kept only
// as SHA-256 digests and compared in constant time; they are never logged.
type Tokens struct {
	list []token
}

// ParseTokens reads a tokens file: one token per line followed by
// whitespace and its comma-separated scopes ("TOKEN ingest,read"); blank
// lines and lines starting with # are ignored. Errors wrap ErrBadTokens and
// name the line, never the token.
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	seen := map[[sha256.Size]byte]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), MaxTokenLine)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		fields := strings.Fields(s)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%w: line %d: want \"TOKEN scope1,scope2\"", ErrBadTokens, line)
		}
		tk := token{hash: sha256.Sum256([]byte(fields[0]))}
		for _, sc := range strings.Split(fields[1], ",") {
			switch Scope(sc) {
			case ScopeIngest:
				tk.ingest = true
			case ScopeRead:
				tk.read = true
			default:
				return nil, fmt.Errorf("%w: line %d: unknown scope %q (scopes: ingest, read)", ErrBadTokens, line, sc)
			}
		}
		if seen[tk.hash] {
			return nil, fmt.Errorf("%w: line %d: token repeated", ErrBadTokens, line)
		}
		seen[tk.hash] = true
		if len(t.list) == MaxTokens {
			return nil, fmt.Errorf("%w: more than %d tokens", ErrBadTokens, MaxTokens)
		}
		t.list = append(t.list, tk)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: line %d: %w", ErrBadTokens, line+1, err)
	}
	if len(t.list) == 0 {
		return nil, fmt.Errorf("%w: no tokens", ErrBadTokens)
	}
	return t, nil
}

// LoadTokens reads the tokens file at path; see ParseTokens. On Unix-like
// systems a file that its group or other users may access (any of the
// mode bits 0077) is refused, wrapping ErrTokensFileMode: other accounts
// of the machine could read the tokens.
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTokens, err)
	}
	defer f.Close()
	if runtime.GOOS != "windows" {
		fi, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadTokens, err)
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			return nil, fmt.Errorf("%w: %s has mode %04o, so other users of this machine can read the tokens: run chmod 600 %s",
				ErrTokensFileMode, path, m, path)
		}
	}
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Len returns the number of tokens.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.list)
}

// lookup returns the index of the token matching presented, or -1. Every
// token is compared, in constant time, so the time taken does not tell
// which one matched.
func (t *Tokens) lookup(presented string) int {
	h := sha256.Sum256([]byte(presented))
	found := -1
	for i := range t.list {
		eq := subtle.ConstantTimeCompare(h[:], t.list[i].hash[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	return found
}

// noToken is the token index of a request on a server without tokens.
const noToken = -1

// authorize checks the request's bearer token for scope and returns the
// token's index. Without tokens every request is allowed (noToken).
func (s *Server) authorize(r *http.Request, scope Scope) (int, *apiError) {
	if s.opts.Tokens.Len() == 0 {
		return noToken, nil
	}
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return noToken, newError(http.StatusUnauthorized, CodeUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
	}
	i := s.opts.Tokens.lookup(strings.TrimSpace(h[len(prefix):]))
	if i < 0 {
		return noToken, newError(http.StatusUnauthorized, CodeUnauthorized, "invalid bearer token")
	}
	tk := &s.opts.Tokens.list[i]
	if (scope == ScopeIngest && !tk.ingest) || (scope == ScopeRead && !tk.read) {
		return noToken, newError(http.StatusForbidden, CodeForbidden, "token lacks the "+string(scope)+" scope")
	}
	return i, nil
}

// CheckListenAddr refuses, with an error wrapping ErrInsecureListen that
// says how to fix it, to serve without tokens on an address that is not
// loopback (an empty host means every interface).
func CheckListenAddr(addr string, tokens *Tokens) error {
	if tokens.Len() > 0 {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("httpapi: listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %s is reachable from other machines; pass --tokens FILE "+
		"(one \"TOKEN ingest,read\" per line) or listen on a loopback address such as 127.0.0.1:8420",
		ErrInsecureListen, addr)
}

package ledger

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a C2SP tlog-checkpoint: the origin of the log, the size of
// its tree and its root hash, signed as a C2SP signed note.
type Checkpoint struct {
	// Origin names the log: the first line of the checkpoint and the name of
	// the key that signs it.
	Origin string
	// Size is the number of leaves the checkpoint commits to.
	Size uint64
	// Root is the root hash of the tree of that size.
	Root Hash
}

// Body returns the checkpoint's text: origin, size and base64 root, one per
// line (C2SP tlog-checkpoint, no extension lines).
func (c Checkpoint) Body() []byte {
	return log.Checkpoint{Origin: c.Origin, Size: c.Size, Hash: c.Root[:]}.Marshal()
}

// SignedCheckpoint is a checkpoint with its signed note, as a store keeps it.
type SignedCheckpoint struct {
	Checkpoint
	// Note is the signed note: Body, a blank line, signature lines.
	Note []byte
}

// Errors of checkpoint signing and checking, for errors.Is.
var (
	// ErrForged is returned for a checkpoint whose signature by a trusted
	// key does not verify, or that is not a well-formed signed checkpoint.
	ErrForged = errors.New("ledger: forged checkpoint")
	// ErrUnverified is returned for a checkpoint that no trusted key signed.
	ErrUnverified = errors.New("ledger: checkpoint not signed by a trusted key")
	// ErrBadKey is returned for a key file that holds no usable key.
	ErrBadKey = errors.New("ledger: bad key")
)

// Signer signs checkpoints with an Ed25519 key (golang.org/x/mod/sumdb/note).
// The key's name is the origin of the checkpoints it signs.
type Signer struct {
	s note.Signer
}

// NewSigner returns a Signer from an encoded note signer key
// ("PRIVATE+KEY+<name>+<hash>+<keydata>", as GenerateKey writes).
func NewSigner(skey string) (*Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return &Signer{s: s}, nil
}

// Origin returns the origin the Signer signs for: its key's name.
func (s *Signer) Origin() string { return s.s.Name() }

// Sign returns the signed checkpoint of a tree of the given size and root.
func (s *Signer) Sign(size uint64, root Hash) (SignedCheckpoint, error) {
	c := Checkpoint{Origin: s.s.Name(), Size: size, Root: root}
	msg, err := note.Sign(&note.Note{Text: string(c.Body())}, s.s)
	if err != nil {
		return SignedCheckpoint{}, fmt.Errorf("ledger: sign checkpoint: %w", err)
	}
	return SignedCheckpoint{Checkpoint: c, Note: msg}, nil
}

// GenerateKey makes an Ed25519 key pair for the log named origin and
// returns the encoded signer key (secret) and verifier key (public), in the
// formats of golang.org/x/mod/sumdb/note.
func GenerateKey(origin string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", "", fmt.Errorf("ledger: generate key for %q: %w", origin, err)
	}
	return skey, vkey, nil
}

// Verifier checks checkpoint signatures against trusted public keys.
type Verifier struct {
	keys []note.Verifier
	list note.Verifiers
}

// NewVerifier returns a Verifier trusting the given encoded verifier keys
// ("<name>+<hash>+<keydata>"). With several keys (key rotation, several
// instances) a checkpoint signed by any of them is accepted.
func NewVerifier(vkeys ...string) (*Verifier, error) {
	v := &Verifier{}
	for _, k := range vkeys {
		nv, err := note.NewVerifier(strings.TrimSpace(k))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		v.keys = append(v.keys, nv)
	}
	if len(v.keys) == 0 {
		return nil, fmt.Errorf("%w: no public key", ErrBadKey)
	}
	v.list = note.VerifierList(v.keys...)
	return v, nil
}

// ReadVerifierFile returns a Verifier trusting the keys in file: one
// encoded verifier key per line; blank lines and lines starting with # are
// skipped.
func ReadVerifierFile(file string) (*Verifier, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("ledger: public key: %w", err)
	}
	var keys []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keys = append(keys, line)
	}
	v, err := NewVerifier(keys...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return v, nil
}

// ReadSignerFile returns the Signer of the encoded signer key in file.
func ReadSignerFile(file string) (*Signer, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("ledger: signing key: %w", err)
	}
	s, err := NewSigner(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return s, nil
}

// Origins returns the names of the trusted keys.
func (v *Verifier) Origins() []string {
	var out []string
	for _, k := range v.keys {
		out = append(out, k.Name())
	}
	return out
}

// Open checks the signed note msg and parses the checkpoint in it
// (github.com/transparency-dev/formats/log). It fails wrapping ErrForged
// when a trusted key's signature does not verify or the note is malformed,
// and ErrUnverified when no trusted key signed it. The checkpoint's origin
// must be the name of the key that signed it.
func (v *Verifier) Open(msg []byte) (Checkpoint, error) {
	n, err := note.Open(msg, v.list)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return Checkpoint{}, fmt.Errorf("%w: %v", ErrUnverified, err)
		}
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrForged, err)
	}
	var c log.Checkpoint
	rest, err := c.Unmarshal([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrForged, err)
	}
	if len(rest) > 0 {
		return Checkpoint{}, fmt.Errorf("%w: unexpected extension lines", ErrForged)
	}
	signed := false
	for _, s := range n.Sigs {
		if s.Name == c.Origin {
			signed = true
		}
	}
	if !signed {
		return Checkpoint{}, fmt.Errorf("%w: origin %q is not the name of a key that signed it", ErrUnverified, c.Origin)
	}
	if len(c.Hash) != HashSize {
		return Checkpoint{}, fmt.Errorf("%w: root of %d bytes", ErrForged, len(c.Hash))
	}
	return Checkpoint{Origin: c.Origin, Size: c.Size, Root: Hash(c.Hash)}, nil
}

// ParseUnverified reads the checkpoint in a signed note without checking
// any signature: for display, and to say what a forged note claims.
func ParseUnverified(msg []byte) (Checkpoint, error) {
	text, _, ok := bytes.Cut(msg, []byte("\n\n"))
	if !ok {
		return Checkpoint{}, fmt.Errorf("%w: not a signed note", ErrForged)
	}
	var c log.Checkpoint
	if _, err := c.Unmarshal(append(text, '\n')); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrForged, err)
	}
	if len(c.Hash) != HashSize {
		return Checkpoint{}, fmt.Errorf("%w: root of %d bytes", ErrForged, len(c.Hash))
	}
	return Checkpoint{Origin: c.Origin, Size: c.Size, Root: Hash(c.Hash)}, nil
}

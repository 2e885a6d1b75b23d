package httpapi

import (
	"bytes"
	"errors"
	"strconv"
)

// errArray reports a body that is not a JSON array of values.
var errArray = errors.New("not a JSON array")

// splitArray returns the elements of a JSON array as subslices of b,
// without decoding them: it follows only strings and nesting to find the
// commas between elements. Each element is validated when it is decoded.
func splitArray(b []byte) ([][]byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' {
		return nil, errArray
	}
	var out [][]byte
	i := 1
	start := 1
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			j, ok := stringEnd(b, i+1)
			if !ok {
				return nil, errors.New("unterminated string")
			}
			i = j
		case '{', '[':
			depth++
		case '}':
			depth--
			if depth < 0 {
				return nil, errors.New("unexpected } at offset " + strconv.Itoa(i))
			}
		case ']':
			if depth > 0 {
				depth--
				break
			}
			el := bytes.TrimSpace(b[start:i])
			if len(el) > 0 {
				out = append(out, el)
			} else if len(out) > 0 {
				return nil, errors.New("missing value before ] at offset " + strconv.Itoa(i))
			}
			if i != len(b)-1 {
				return nil, errors.New("data after the array at offset " + strconv.Itoa(i+1))
			}
			return out, nil
		case ',':
			if depth == 0 {
				el := bytes.TrimSpace(b[start:i])
				if len(el) == 0 {
					return nil, errors.New("missing value before , at offset " + strconv.Itoa(i))
				}
				out = append(out, el)
				start = i + 1
			}
		}
		i++
	}
	return nil, errors.New("unterminated array")
}

// stringEnd returns the index of the quote that closes the string whose
// content starts at from: the next quote not escaped by an odd number of
// backslashes.
func stringEnd(b []byte, from int) (int, bool) {
	for {
		k := bytes.IndexByte(b[from:], '"')
		if k < 0 {
			return 0, false
		}
		q := from + k
		bs := 0
		for p := q - 1; p >= from && b[p] == '\\'; p-- {
			bs++
		}
		if bs%2 == 0 {
			return q, true
		}
		from = q + 1
	}
}

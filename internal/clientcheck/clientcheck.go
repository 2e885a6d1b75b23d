// Package clientcheck finds HTTP clients without a timeout in a package's
// tests, so that a broken server fails its test instead of hanging the
// suite. Each package whose tests speak HTTP runs Check from a test.
package clientcheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
)

// StreamClientName is the one name an http.Client without a Timeout may
// be given (as a variable or a struct field): a client for live streams,
// whose requests must carry a context with a deadline instead.
const StreamClientName = "streamClient"

// Check parses the _test.go files of dir and returns, one per finding,
// the places that send HTTP requests without a bound: the package-level
// helpers of net/http that use http.DefaultClient (Get, Post, Head,
// PostForm), http.DefaultClient itself, and http.Client literals without
// a Timeout (unless named StreamClientName).
func Check(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var out []string
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return nil, err
		}
		httpName := importName(f, "net/http")
		if httpName == "" {
			continue
		}
		report := func(n ast.Node, what string) {
			out = append(out, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), what))
		}
		allowed := map[ast.Node]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && id.Name == StreamClientName {
					allowed[unparen(n.Value)] = true
				}
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if isName(lhs, StreamClientName) && i < len(n.Rhs) {
						allowed[unparen(n.Rhs[i])] = true
					}
				}
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if name.Name == StreamClientName && i < len(n.Values) {
						allowed[unparen(n.Values[i])] = true
					}
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == httpName {
					switch n.Sel.Name {
					case "Get", "Post", "Head", "PostForm":
						report(n, httpName+"."+n.Sel.Name+" uses http.DefaultClient, which has no timeout")
					case "DefaultClient":
						report(n, "http.DefaultClient has no timeout")
					}
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			if u, ok := n.(*ast.UnaryExpr); ok && allowed[u] {
				return false // &http.Client{...} named StreamClientName
			}
			lit, ok := n.(*ast.CompositeLit)
			if !ok || allowed[lit] || !isSelector(lit.Type, httpName, "Client") {
				return true
			}
			for _, el := range lit.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok && isName(kv.Key, "Timeout") {
					return true
				}
			}
			report(lit, "http.Client without a Timeout (name it "+StreamClientName+" if its requests carry a deadline)")
			return true
		})
	}
	sort.Strings(out)
	return out, nil
}

func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if imp.Path.Value == `"`+path+`"` {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return filepath.Base(path)
		}
	}
	return ""
}

func unparen(e ast.Expr) ast.Node {
	for {
		p, ok := e.(*ast.ParenExpr)
		if !ok {
			return e
		}
		e = p.X
	}
}

func isName(e ast.Expr, name string) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == name
	case *ast.SelectorExpr:
		return e.Sel.Name == name
	}
	return false
}

func isSelector(e ast.Expr, pkg, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := s.X.(*ast.Ident)
	return ok && x.Name == pkg && s.Sel.Name == name
}

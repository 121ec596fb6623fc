package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"sort"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Parse reads a spin.toml (manifest version 2) from data: it decodes,
// normalises and validates it. path names the file in error messages (as
// given) and is stored in Manifest.Path. On failure the error is an Errors
// holding every problem found, in file order.
func Parse(data []byte, path string) (*Manifest, error) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, Errors{syntaxError(path, data, err)}
	}
	d := &decoder{reporter: reporter{file: path}, ps: indexPositions(data)}
	m, ok := d.manifest(doc)
	if ok {
		d.normalize(m)
		d.validate(m)
	}
	if len(d.errs) > 0 {
		sortErrors(d.errs)
		return nil, d.errs
	}
	m.Path = path
	return m, nil
}

// Load reads and parses a manifest file; a directory means <dir>/spin.toml.
func Load(pathOrDir string) (*Manifest, error) {
	path := pathOrDir
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "spin.toml")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// syntaxError turns go-toml's error into ours, keeping its position.
func syntaxError(path string, data []byte, err error) *Error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		return &Error{File: path, Pos: Position{Line: line, Column: col}, Msg: "invalid TOML: " + trimTOMLPrefix(de.Error())}
	}
	// Semantic errors (a key or table defined twice) come without a
	// position; find the expression that causes them.
	return &Error{File: path, Pos: locateSemanticError(data), Msg: "invalid TOML: " + trimTOMLPrefix(err.Error())}
}

// locateSemanticError finds the first top-level expression of data at
// which decoding fails, by bisecting over prefixes that end at expression
// boundaries (once a prefix fails, every longer one fails too). It is only
// called on the error path, and costs a few decodes.
func locateSemanticError(data []byte) Position {
	starts := expressionStarts(data)
	if len(starts) == 0 {
		return Position{}
	}
	// fails(i) reports whether the document up to and including expression i fails.
	fails := func(i int) bool {
		end := len(data)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		var doc map[string]any
		return toml.Unmarshal(data[:end], &doc) != nil
	}
	i := sort.Search(len(starts), fails)
	if i == len(starts) {
		return Position{}
	}
	return (&indexer{data: data, lineStarts: lineStarts(data)}).pos(starts[i])
}

// expressionStarts returns the offset where each top-level key/value or
// table header starts.
func expressionStarts(data []byte) []int {
	x := &indexer{data: data}
	var starts []int
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind != unstable.KeyValue && e.Kind != unstable.Table && e.Kind != unstable.ArrayTable {
			continue
		}
		it := e.Key()
		if !it.Next() {
			continue
		}
		off := int(it.Node().Raw.Offset)
		if e.Kind != unstable.KeyValue {
			off = x.headerStart(off)
		}
		starts = append(starts, off)
	}
	return starts
}

func trimTOMLPrefix(s string) string {
	const prefix = "toml: "
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return s
}

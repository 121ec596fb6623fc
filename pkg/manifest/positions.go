package manifest

import (
	"sort"
	"strconv"

	"github.com/pelletier/go-toml/v2/unstable"
)

// go-toml's Unmarshal gives values without positions, and its AST gives
// positions without the TOML semantics (dotted keys, implicit tables, arrays
// of tables). We decode values with Unmarshal and, separately, walk the AST
// once to record where every key and value sits, indexed by its path in the
// decoded document. Each decoder step then asks the index for the position of
// the path it is looking at.

// tomlPath names a place in the decoded document: a sequence of table keys
// and array indexes. It is a string so that it can index a map.
type tomlPath string

func (p tomlPath) key(k string) tomlPath { return p + "\x00k" + tomlPath(k) }
func (p tomlPath) index(i int) tomlPath  { return p + "\x00i" + tomlPath(strconv.Itoa(i)) }

// location is where a key and its value start.
type location struct {
	key, value Position
}

// positions maps paths to locations. A path with no entry (which should not
// happen for a document that go-toml accepted) falls back to its parent.
type positions struct {
	locs map[tomlPath]location
}

// keyPos is where the key of path p is written (the header for a table).
func (ps *positions) keyPos(p tomlPath) Position {
	for {
		if l, ok := ps.locs[p]; ok {
			return l.key
		}
		if p == "" {
			return Position{}
		}
		p = parentPath(p)
	}
}

// valuePos is where the value of path p starts.
func (ps *positions) valuePos(p tomlPath) Position {
	for {
		if l, ok := ps.locs[p]; ok {
			return l.value
		}
		if p == "" {
			return Position{}
		}
		p = parentPath(p)
	}
}

func parentPath(p tomlPath) tomlPath {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == 0 {
			return p[:i]
		}
	}
	return ""
}

// indexPositions walks the TOML AST of data. It never fails: a document that
// go-toml's Unmarshal accepted parses here too, and if it somehow does not,
// the positions found so far are still useful.
func indexPositions(data []byte) *positions {
	x := &indexer{
		ps:       &positions{locs: map[tomlPath]location{}},
		data:     data,
		arrayLen: map[tomlPath]int{},
	}
	x.lineStarts = lineStarts(data)
	var p unstable.Parser
	p.Reset(data)
	var table tomlPath // the table that key/values currently go into
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = x.header(e)
		case unstable.KeyValue:
			x.keyValue(table, e)
		}
	}
	return x.ps
}

// lineStarts returns the offset where each line starts.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

type indexer struct {
	ps   *positions
	data []byte
	// arrayLen counts the [[x]] headers seen per array path, so that a later
	// [x.y] or [[x.y]] refers to the last element of x.
	arrayLen   map[tomlPath]int
	lineStarts []int
}

// pos converts a byte offset to a 1-based line and (byte) column.
func (x *indexer) pos(offset int) Position {
	if offset < 0 || offset > len(x.data) {
		return Position{}
	}
	// lineStarts[i] is the offset where line i+1 starts.
	line := sort.Search(len(x.lineStarts), func(i int) bool { return x.lineStarts[i] > offset })
	return Position{Line: line, Column: offset - x.lineStarts[line-1] + 1}
}

func (x *indexer) record(p tomlPath, key, value Position) {
	if _, ok := x.ps.locs[p]; !ok {
		x.ps.locs[p] = location{key: key, value: value}
	}
}

// header records a [table] or [[array.table]] header and returns the path
// that the following key/values belong to.
func (x *indexer) header(e *unstable.Node) tomlPath {
	var p tomlPath
	hdr := Position{}
	it := e.Key()
	for it.Next() {
		k := it.Node()
		kp := x.pos(int(k.Raw.Offset))
		if hdr == (Position{}) {
			hdr = x.pos(x.headerStart(int(k.Raw.Offset)))
		}
		p = p.key(string(k.Data))
		x.record(p, kp, kp)
		last := it.IsLast()
		switch {
		case last && e.Kind == unstable.ArrayTable:
			n := x.arrayLen[p]
			x.arrayLen[p] = n + 1
			p = p.index(n)
			x.record(p, hdr, hdr)
		case last:
			// The table's value is the whole [header] section.
			l := x.ps.locs[p]
			l.value = hdr
			x.ps.locs[p] = l
		case x.arrayLen[p] > 0:
			p = p.index(x.arrayLen[p] - 1)
		}
	}
	return p
}

// headerStart finds the "[" (or "[[") that opens a header whose first key
// starts at offset.
func (x *indexer) headerStart(offset int) int {
	i := offset
	for i > 0 && (x.data[i-1] == ' ' || x.data[i-1] == '\t' || x.data[i-1] == '[') {
		i--
	}
	return i
}

// keyValue records key = value (keys may be dotted) under table.
func (x *indexer) keyValue(table tomlPath, e *unstable.Node) {
	p := table
	var keyStart Position
	keyEnd := -1
	it := e.Key()
	for it.Next() {
		k := it.Node()
		kp := x.pos(int(k.Raw.Offset))
		if keyEnd < 0 {
			keyStart = kp
		}
		keyEnd = int(k.Raw.Offset + k.Raw.Length)
		p = p.key(string(k.Data))
		x.record(p, kp, kp)
	}
	v := e.Value()
	vp := x.valueStart(v, keyEnd)
	if vp == (Position{}) {
		vp = keyStart
	}
	// The key was recorded above with itself as value position; now that
	// the value's position is known, record that.
	l := x.ps.locs[p]
	l.value = vp
	x.ps.locs[p] = l
	x.value(p, v, vp)
}

// valueStart finds where the value of a key/value begins: from the value
// node itself when it carries its raw bytes, otherwise just after the "=".
func (x *indexer) valueStart(v *unstable.Node, keyEnd int) Position {
	if v != nil && v.Raw.Length > 0 {
		return x.pos(int(v.Raw.Offset))
	}
	if keyEnd < 0 || keyEnd > len(x.data) {
		return Position{}
	}
	i := skipBlanks(x.data, keyEnd)
	if i < len(x.data) && x.data[i] == '=' {
		return x.pos(skipBlanks(x.data, i+1))
	}
	return Position{}
}

func skipBlanks(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// value records the contents of inline tables and arrays.
func (x *indexer) value(p tomlPath, v *unstable.Node, vp Position) {
	if v == nil {
		return
	}
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				x.keyValue(p, c)
			}
		}
	case unstable.Array:
		i := 0
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			cp := vp
			if c.Raw.Length > 0 {
				cp = x.pos(int(c.Raw.Offset))
			}
			ep := p.index(i)
			x.record(ep, cp, cp)
			x.value(ep, c, cp)
			i++
		}
	}
}

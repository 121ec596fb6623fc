package binary

import "fmt"

// CanonKind discriminates Canon.
type CanonKind uint8

const (
	CanonLift         CanonKind = iota // core func -> func (defines a func)
	CanonLower                         // func -> core func
	CanonResourceNew                   // defines a core func [i32] -> [i32]
	CanonResourceDrop                  // defines a core func [i32] -> []
	CanonResourceRep                   // defines a core func [i32] -> [i32]
)

var canonNames = [...]string{"lift", "lower", "resource.new", "resource.drop", "resource.rep"}

func (k CanonKind) String() string {
	if int(k) < len(canonNames) {
		return canonNames[k]
	}
	return "unknown"
}

// Sort is the index space a canonical definition of this kind extends.
func (k CanonKind) Sort() Sort {
	if k == CanonLift {
		return SortFunc
	}
	return SortCoreFunc
}

// Canon is a canonical definition.
type Canon struct {
	Offset int
	Kind   CanonKind
	// Func is the core func index (lift) or the func index (lower).
	Func uint32
	// Type is the func type index (lift) or resource type index (resource.*).
	Type    uint32
	Options CanonOptions // lift, lower
}

// StringEncoding is the canonical ABI string encoding option.
type StringEncoding uint8

const (
	UTF8 StringEncoding = iota // the default
	UTF16
	Latin1UTF16
)

func (e StringEncoding) String() string {
	return [...]string{"utf8", "utf16", "latin1+utf16"}[e%3]
}

// CanonOptions are the canonopts of a lift or lower. Nil means absent.
type CanonOptions struct {
	StringEncoding StringEncoding
	Memory         *uint32 // core memory index
	Realloc        *uint32 // core func index
	PostReturn     *uint32 // core func index
}

// unsupportedCanon names the canonical builtins of the async, error-context
// and threads proposals, which this decoder recognises but does not accept:
// Wisp hosts synchronous WASI 0.2 components.
var unsupportedCanon = map[byte]string{
	0x05: "task.cancel", 0x06: "subtask.cancel", 0x07: "resource.drop async", 0x08: "yield (legacy)",
	0x09: "task.return", 0x0a: "context.get", 0x0b: "context.set", 0x0c: "thread.yield",
	0x0d: "subtask.drop", 0x0e: "stream.new", 0x0f: "stream.read", 0x10: "stream.write",
	0x11: "stream.cancel-read", 0x12: "stream.cancel-write", 0x13: "stream.drop-readable",
	0x14: "stream.drop-writable", 0x15: "future.new", 0x16: "future.read", 0x17: "future.write",
	0x18: "future.cancel-read", 0x19: "future.cancel-write", 0x1a: "future.drop-readable",
	0x1b: "future.drop-writable", 0x1c: "error-context.new", 0x1d: "error-context.debug-message",
	0x1e: "error-context.drop", 0x1f: "waitable-set.new", 0x20: "waitable-set.wait",
	0x21: "waitable-set.poll", 0x22: "waitable-set.drop", 0x23: "waitable.join",
	0x24: "backpressure.inc", 0x25: "backpressure.dec", 0x26: "thread.index",
	0x27: "thread.new-indirect", 0x28: "thread.resume-later", 0x29: "thread.suspend",
	0x2a: "thread.suspend-then-resume", 0x2b: "thread.yield-then-resume",
	0x2c: "thread.suspend-then-promote", 0x2d: "thread.yield-then-promote",
	0x40: "thread.spawn-ref", 0x41: "thread.spawn-indirect", 0x42: "thread.available-parallelism",
}

func (d *decoder) canon(r *reader, sc *scope) (Canon, error) {
	cn := Canon{Offset: r.abs()}
	op, err := r.byte()
	if err != nil {
		return cn, err
	}
	switch op {
	case 0x00, 0x01:
		if z, err := r.byte(); err != nil {
			return cn, err
		} else if z != 0x00 {
			return cn, r.errorf("canon %s: expected func sort 0x00, got 0x%02x", canonNames[op], z)
		}
		cn.Kind = CanonLift
		if op == 0x01 {
			cn.Kind = CanonLower
		}
		if cn.Func, err = r.u32(); err != nil {
			return cn, err
		}
		if op == 0x00 {
			err = sc.check(r, SortCoreFunc, cn.Func, "core func")
		} else {
			err = sc.check(r, SortFunc, cn.Func, "func")
		}
		if err != nil {
			return cn, err
		}
		if cn.Options, err = canonOptions(r, sc); err != nil {
			return cn, err
		}
		if op == 0x00 {
			if cn.Type, err = r.u32(); err != nil {
				return cn, err
			}
			if err := sc.check(r, SortType, cn.Type, "type"); err != nil {
				return cn, err
			}
		}
	case 0x02, 0x03, 0x04:
		cn.Kind = CanonKind(op)
		if cn.Type, err = r.u32(); err != nil {
			return cn, err
		}
		if err := sc.check(r, SortType, cn.Type, "resource type"); err != nil {
			return cn, err
		}
	default:
		if name, ok := unsupportedCanon[op]; ok {
			return cn, &posError{off: cn.Offset, err: fmt.Errorf("unsupported canonical builtin 0x%02x (%s)", op, name)}
		}
		return cn, &posError{off: cn.Offset, err: fmt.Errorf("unknown canonical builtin 0x%02x", op)}
	}
	return cn, nil
}

func canonOptions(r *reader, sc *scope) (CanonOptions, error) {
	var o CanonOptions
	n, err := r.count("canonical option", 1)
	if err != nil {
		return o, err
	}
	seenEnc := false
	idx := func(p **uint32, s Sort, what string) error {
		if *p != nil {
			return r.errorf("duplicate %s option", what)
		}
		v, err := r.u32()
		if err != nil {
			return err
		}
		if err := sc.check(r, s, v, what); err != nil {
			return err
		}
		*p = &v
		return nil
	}
	for range n {
		c, err := r.byte()
		if err != nil {
			return o, err
		}
		switch c {
		case 0x00, 0x01, 0x02:
			if seenEnc {
				return o, r.errorf("duplicate string-encoding option")
			}
			seenEnc = true
			o.StringEncoding = StringEncoding(c)
		case 0x03:
			err = idx(&o.Memory, SortCoreMemory, "memory")
		case 0x04:
			err = idx(&o.Realloc, SortCoreFunc, "realloc")
		case 0x05:
			err = idx(&o.PostReturn, SortCoreFunc, "post-return")
		case 0x06:
			return o, r.errorf("unsupported canonical option async")
		case 0x07:
			return o, r.errorf("unsupported canonical option callback")
		default:
			return o, r.errorf("unknown canonical option 0x%02x", c)
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

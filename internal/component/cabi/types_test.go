package cabi

import "strconv"

var (
	tBool   = &Type{Kind: KindBool}
	tS8     = &Type{Kind: KindS8}
	tU8     = &Type{Kind: KindU8}
	tS16    = &Type{Kind: KindS16}
	tU16    = &Type{Kind: KindU16}
	tS32    = &Type{Kind: KindS32}
	tU32    = &Type{Kind: KindU32}
	tS64    = &Type{Kind: KindS64}
	tU64    = &Type{Kind: KindU64}
	tF32    = &Type{Kind: KindF32}
	tF64    = &Type{Kind: KindF64}
	tChar   = &Type{Kind: KindChar}
	tString = &Type{Kind: KindString}
)

func listOf(e *Type) *Type   { return &Type{Kind: KindList, Elem: e} }
func optionOf(e *Type) *Type { return &Type{Kind: KindOption, Elem: e} }
func resultOf(ok, err *Type) *Type {
	return &Type{Kind: KindResult, Ok: ok, Err: err}
}
func tupleOf(ts ...*Type) *Type { return &Type{Kind: KindTuple, Types: ts} }

func recordOf(ts ...*Type) *Type {
	t := &Type{Kind: KindRecord}
	for i, ft := range ts {
		t.Fields = append(t.Fields, Field{Name: "f" + strconv.Itoa(i), Type: ft})
	}
	return t
}

func variantOf(ts ...*Type) *Type {
	t := &Type{Kind: KindVariant}
	for i, ct := range ts {
		t.Cases = append(t.Cases, Case{Name: "c" + strconv.Itoa(i), Type: ct})
	}
	return t
}

func labels(n int) []string {
	ls := make([]string, n)
	for i := range ls {
		ls[i] = "l" + strconv.Itoa(i)
	}
	return ls
}

func enumOf(n int) *Type  { return &Type{Kind: KindEnum, Labels: labels(n)} }
func flagsOf(n int) *Type { return &Type{Kind: KindFlags, Labels: labels(n)} }

package cabi

import (
	"sync"
	"testing"
)

func TestHandleTable(t *testing.T) {
	fields := &Resource{Name: "wasi:http/types#fields", Host: true}
	other := &Resource{Name: "wasi:http/types#request", Host: true}
	guest := &Resource{Name: "my:pkg/i#thing"}
	var dropped []any
	h := NewHandleTable()
	h.OnDrop = func(r *Resource, rep any) { dropped = append(dropped, rep) }

	i, err := h.New(fields, "F", true)
	if err != nil || i != 1 {
		t.Fatalf("New = %d, %v; want 1 (index 0 is never valid)", i, err)
	}
	if _, err := h.Rep(fields, 0); !isTrap(err) {
		t.Error("index 0 accepted")
	}
	if rep, err := h.Rep(fields, i); err != nil || rep != "F" {
		t.Errorf("Rep = %v, %v", rep, err)
	}
	if _, err := h.Rep(other, i); !isTrap(err) {
		t.Error("wrong resource type accepted")
	}

	// A guest calls a host function with borrow<fields>: lent for the call.
	ownT := &Type{Kind: KindOwn, Resource: fields}
	borrowT := &Type{Kind: KindBorrow, Resource: fields}
	cx := &Context{Handles: h}
	if _, err := LiftFlat(cx, borrowT, NewFlatReader([]uint64{uint64(i)})); !isTrap(err) {
		t.Error("borrow lifted outside a call")
	}
	cx.Call = h.BeginCall()
	rep, err := LiftFlat(cx, borrowT, NewFlatReader([]uint64{uint64(i)}))
	if err != nil || rep != "F" {
		t.Fatalf("lift borrow = %v, %v", rep, err)
	}
	// While lent it can neither be moved out nor dropped.
	if _, err := LiftFlat(cx, ownT, NewFlatReader([]uint64{uint64(i)})); !isTrap(err) {
		t.Error("own lifted while borrowed")
	}
	if _, _, err := h.Drop(fields, i); !isTrap(err) {
		t.Error("dropped while borrowed")
	}
	if err := h.EndCall(cx.Call); err != nil {
		t.Fatalf("EndCall: %v", err)
	}
	if err := h.EndCall(cx.Call); !isTrap(err) {
		t.Error("EndCall twice accepted")
	}

	// After the call, own can be moved out: the handle is gone.
	rep, err = LiftFlat(cx, ownT, NewFlatReader([]uint64{uint64(i)}))
	if err != nil || rep != "F" {
		t.Fatalf("lift own = %v, %v", rep, err)
	}
	if _, err := h.Rep(fields, i); !isTrap(err) {
		t.Error("handle still valid after lift own")
	}
	// The free slot is reused.
	j, _ := h.New(fields, "G", true)
	if j != i {
		t.Errorf("slot not reused: %d", j)
	}
	// A borrow handle is not an own.
	b, _ := h.New(fields, "B", false)
	if _, err := LiftFlat(cx, ownT, NewFlatReader([]uint64{uint64(b)})); !isTrap(err) {
		t.Error("borrow handle lifted as own")
	}
	if _, own, err := h.Drop(fields, b); err != nil || own {
		t.Errorf("drop borrow = %v, %v", own, err)
	}
	if len(dropped) != 0 {
		t.Error("OnDrop called for a borrow")
	}
	if rep, own, err := h.Drop(fields, j); err != nil || !own || rep != "G" {
		t.Errorf("Drop = %v %v %v", rep, own, err)
	}
	if len(dropped) != 1 || dropped[0] != "G" {
		t.Errorf("OnDrop saw %v", dropped)
	}
	if _, _, err := h.Drop(fields, j); !isTrap(err) {
		t.Error("double drop accepted")
	}

	// Guest resources: Drop returns the rep for the linker's destructor,
	// borrows lower to the rep itself.
	g, _ := h.New(guest, uint32(77), true)
	if rep, own, err := h.Drop(guest, g); err != nil || !own || rep != uint32(77) {
		t.Errorf("Drop guest = %v %v %v", rep, own, err)
	}
	if len(dropped) != 1 {
		t.Error("OnDrop called for a guest resource")
	}
	flat, err := LowerFlat(cx, &Type{Kind: KindBorrow, Resource: guest}, uint32(5))
	if err != nil || flat[0] != 5 {
		t.Errorf("lower borrow<guest> = %v, %v", flat, err)
	}

	// Borrows the host gives a guest export must be dropped before the
	// call ends.
	cx.Call = h.BeginCall()
	flat, err = LowerFlat(cx, borrowT, "H")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.EndCall(cx.Call); !isTrap(err) {
		t.Error("call ended with a live borrow")
	}
	cx.Call = h.BeginCall()
	flat, _ = LowerFlat(cx, borrowT, "H")
	if _, _, err := h.Drop(fields, uint32(flat[0])); err != nil {
		t.Fatal(err)
	}
	if err := h.EndCall(cx.Call); err != nil {
		t.Errorf("EndCall after drop: %v", err)
	}
	if h.Len() != 1 { // the earlier undropped borrow
		t.Errorf("Len = %d", h.Len())
	}
}

func TestHandleTableConcurrent(t *testing.T) {
	r := &Resource{Name: "r", Host: true}
	h := NewHandleTable()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				idx, err := h.New(r, i, true)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := h.Rep(r, idx); err != nil {
					t.Error(err)
					return
				}
				if _, _, err := h.Drop(r, idx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if h.Len() != 0 {
		t.Errorf("Len = %d", h.Len())
	}
}

// The layout cache is shared by concurrent calls.
func TestLayoutsConcurrent(t *testing.T) {
	ls := NewLayouts()
	typ := listOf(tupleOf(tString, listOf(tU8)))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				m := newTestMem(256)
				cx := m.cx(UTF8)
				cx.Layouts = ls
				flat, err := LowerFlat(cx, typ, []any{[]any{"k", []byte("v")}})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := LiftFlat(cx, typ, NewFlatReader(flat)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
)

// dirtyWAT grows its memory to a given number of pages and writes a
// non-zero byte at the start, the middle and the end of every page
// ("dirty"), or reports the first page where any of those bytes is not
// zero, or -1 ("find").
const dirtyWAT = `(module
  (memory (export "memory") 1 1024)
  (func $grow (param $pages i32)
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $pages) (memory.size)))))))
  (func (export "dirty") (param $pages i32)
    (local $p i32) (local $a i32)
    (call $grow (local.get $pages))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $pages)))
        (local.set $a (i32.mul (local.get $p) (i32.const 65536)))
        (i32.store8 (local.get $a) (i32.const 0xa5))
        (i32.store8 (i32.add (local.get $a) (i32.const 32768)) (i32.const 0xa5))
        (i32.store8 (i32.add (local.get $a) (i32.const 65535)) (i32.const 0xa5))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l))))
  (func (export "find") (param $pages i32) (result i32)
    (local $p i32) (local $a i32)
    (call $grow (local.get $pages))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $pages)))
        (local.set $a (i32.mul (local.get $p) (i32.const 65536)))
        (if (i32.or (i32.or (i32.load8_u (local.get $a))
                            (i32.load8_u (i32.add (local.get $a) (i32.const 32768))))
                    (i32.load8_u (i32.add (local.get $a) (i32.const 65535))))
          (then (return (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l)))
    (i32.const -1)))
`

// TestLargeMemoryResetAcrossChunks: a pooled memory is zeroed in pieces
// when it is freed; a memory that an instance dirtied over many pieces
// (and over a size that is not a whole number of pieces) is all zeros for
// the next instance, sequentially and with memories reused concurrently.
func TestLargeMemoryResetAcrossChunks(t *testing.T) {
	src := filepath.Join(t.TempDir(), "dirty.wat")
	if err := os.WriteFile(src, []byte(dirtyWAT), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, engine.Config{MaxInstanceMemory: 64 << 20})
	m := compileFile(t, e, testguest.WAT(t, src))
	ctx := context.Background()
	// 83 pages: 5.2 MiB, not a multiple of 256 KiB; 1000 pages: 62.5 MiB,
	// just under the size beyond which memories are released instead.
	cycle := func(pages uint64) error {
		inst, err := m.Instantiate(ctx, nil)
		if err != nil {
			return err
		}
		defer inst.Close(ctx)
		res, err := inst.Call(ctx, "find", pages)
		if err != nil {
			return err
		}
		if int32(res[0]) != -1 {
			t.Errorf("a fresh instance sees an earlier instance's byte on page %d of %d", int32(res[0]), pages)
		}
		_, err = inst.Call(ctx, "dirty", pages)
		return err
	}
	for _, pages := range []uint64{83, 1000, 83, 5, 1000, 1000} {
		if err := cycle(pages); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if err := cycle(uint64(83 + 200*i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestPooledMemoryAcrossModules: pooled memories pass between modules
// with different images (idle memories keep the image of their last
// module); every fresh instance sees exactly its own module's initial
// memory, however the previous instance of any module left it.
func TestPooledMemoryAcrossModules(t *testing.T) {
	e := newEngine(t, engine.Config{MaxInstanceMemory: 16 << 20})
	ctx := context.Background()
	type mod struct {
		m    *engine.Module
		want []byte // initial memory
	}
	var mods []mod
	for i, data := range []struct {
		off  int
		text string
	}{{100, "module A's data"}, {70000, "module B's data, on page two"}, {4096, ""}} {
		wat := fmt.Sprintf(`(module (memory (export "memory") 2 256) (data (i32.const %d) %q))`, data.off, data.text)
		if data.text == "" {
			wat = `(module (memory (export "memory") 2 256))`
		}
		src := filepath.Join(t.TempDir(), fmt.Sprintf("m%d.wat", i))
		if err := os.WriteFile(src, []byte(wat), 0o644); err != nil {
			t.Fatal(err)
		}
		want := make([]byte, 2<<16)
		copy(want[data.off:], data.text)
		mods = append(mods, mod{compileFile(t, e, testguest.WAT(t, src)), want})
	}
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 60 {
		md := mods[r.IntN(len(mods))]
		inst, err := md.m.Instantiate(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		mem := inst.Memory("memory")
		got, ok := mem.Read(0, mem.Size())
		if !ok || !bytes.Equal(got, md.want) {
			t.Fatalf("round %d: a fresh instance's memory is not its module's initial memory", round)
		}
		// Leave a mess: grow, scribble over random pages.
		if r.IntN(2) == 0 {
			mem.Grow(uint32(1 + r.IntN(20)))
		}
		junk := make([]byte, 1+r.IntN(9000))
		for range 1 + r.IntN(30) {
			for i := range junk {
				junk[i] = byte(r.Uint32())
			}
			mem.Write(uint32(r.IntN(int(mem.Size())-len(junk))), junk)
		}
		inst.Close(ctx)
	}
}

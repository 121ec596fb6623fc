package sqlitekv_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/factors/keyvalue/sqlitekv"
)

func TestStore(t *testing.T) {
	for _, path := range []string{"", filepath.Join(t.TempDir(), "sub", "kv.db")} {
		t.Run(fmt.Sprintf("path=%q", path), func(t *testing.T) {
			ctx := context.Background()
			db, err := sqlitekv.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			a, b := db.Store("a"), db.Store("b")
			if _, ok, err := a.Get(ctx, "k"); ok || err != nil {
				t.Fatalf("get missing: %v %v", ok, err)
			}
			if err := a.Set(ctx, "k", []byte("va")); err != nil {
				t.Fatal(err)
			}
			if err := a.Set(ctx, "k", []byte("va2")); err != nil {
				t.Fatal(err)
			}
			if v, ok, _ := a.Get(ctx, "k"); !ok || string(v) != "va2" {
				t.Fatalf("get = %q %v", v, ok)
			}
			if ok, _ := b.Exists(ctx, "k"); ok {
				t.Fatal("stores of one database share keys")
			}
			if n, err := b.Increment(ctx, "n", 2); n != 2 || err != nil {
				t.Fatalf("increment = %d %v", n, err)
			}
			if _, err := a.Increment(ctx, "k", 1); err == nil {
				t.Fatal("incrementing a non-counter succeeded")
			}
			if ok, _ := a.CompareAndSwap(ctx, "k", []byte("stale"), true, []byte("x")); ok {
				t.Fatal("stale cas succeeded")
			}
			if ok, _ := a.CompareAndSwap(ctx, "k", []byte("va2"), true, []byte("x")); !ok {
				t.Fatal("cas failed")
			}
			if ok, _ := a.CompareAndSwap(ctx, "absent", nil, false, []byte("y")); !ok {
				t.Fatal("cas on absent failed")
			}
			keys, _ := a.Keys(ctx)
			if fmt.Sprint(keys) != "[absent k]" {
				t.Fatalf("keys = %q", keys)
			}
			if err := a.Delete(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := a.Exists(ctx, "k"); ok {
				t.Fatal("exists after delete")
			}
		})
	}
}

const childEnv = "WISP_SQLITEKV_CHILD_DB"

// TestDurableAfterKill: a child process sets keys and acknowledges each
// on stdout once Set returned; the parent kills it with SIGKILL mid-stream
// and checks that every acknowledged key is in the database.
func TestDurableAfterKill(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		child(path)
		return
	}
	path := filepath.Join(t.TempDir(), "kv.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurableAfterKill$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	acked := -1
	for sc.Scan() {
		n, err := strconv.Atoi(sc.Text())
		if err != nil {
			continue // test framework output
		}
		acked = n
		if acked == 40 {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if acked != 40 {
		t.Fatalf("child acknowledged only up to %d", acked)
	}
	db, err := sqlitekv.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := db.Store("default")
	for i := 0; i <= acked; i++ {
		k := strconv.Itoa(i)
		v, ok, err := s.Get(context.Background(), k)
		if err != nil || !ok || !bytes.Equal(v, []byte("value-"+k)) {
			t.Fatalf("acknowledged key %s lost after kill -9: %q %v %v", k, v, ok, err)
		}
	}
}

func child(path string) {
	db, err := sqlitekv.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s := db.Store("default")
	for i := 0; ; i++ {
		k := strconv.Itoa(i)
		if err := s.Set(context.Background(), k, []byte("value-"+k)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(i) // the acknowledgement
		if i > 40 {
			time.Sleep(time.Millisecond)
		}
	}
}

func TestPragmas(t *testing.T) {
	// The durability contract rests on these: check they took effect.
	path := filepath.Join(t.TempDir(), "kv.db")
	db, err := sqlitekv.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Store("x").Set(context.Background(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL file: %v", err)
	}
	for name, want := range map[string]string{"journal_mode": "wal", "synchronous": "2"} { // 2 = FULL
		if got, err := sqlitekv.Pragma(db, name); got != want || err != nil {
			t.Errorf("PRAGMA %s = %q (%v), want %q", name, got, err, want)
		}
	}
}

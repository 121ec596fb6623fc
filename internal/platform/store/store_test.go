package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/platform/store"
)

func TestRecords(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(store.KindApp, "web", &store.App{Name: "web", Current: 2}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"../x", "", "A", "a/b"} {
		if err := s.Put(store.KindApp, bad, &store.App{}); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
	// A temporary file a crash left behind is not a record.
	os.WriteFile(filepath.Join(dir, "state", "apps", ".tmp-1"), []byte("{"), 0o600)
	var keys []string
	if err := s.LoadAll(store.KindApp, func(k string, data []byte) error {
		keys = append(keys, k)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "web" {
		t.Errorf("records %v", keys)
	}
	if err := s.Delete(store.KindApp, "web"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(store.KindApp, "web"); err != nil {
		t.Errorf("deleting a missing record: %v", err)
	}
}

func TestBlobs(t *testing.T) {
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" // sha256("hello")
	if err := s.PutBlob(hello, strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBlob(hello, strings.NewReader("HELLO")); !errors.Is(err, store.ErrDigestMismatch) {
		t.Errorf("wrong content: %v", err)
	}
	if b, err := s.ReadBlob(hello); err != nil || string(b) != "hello" {
		t.Errorf("ReadBlob: %q %v", b, err)
	}
	if _, err := s.ReadBlob("../../etc/passwd"); err == nil {
		t.Error("ReadBlob accepted a path")
	}
	if err := s.CollectBlobs(map[string]bool{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadBlob(hello); err == nil {
		t.Error("blob survived collection")
	}
}

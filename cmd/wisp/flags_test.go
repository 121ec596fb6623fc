package main

import (
	"errors"
	"testing"
)

func TestParseBytes(t *testing.T) {
	good := map[string]uint64{"268435456": 268435456, "64Mi": 64 << 20, "1Gi": 1 << 30, "512MB": 512e6, "4Gi": 4 << 30, "2K": 2048}
	for in, want := range good {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "lots", "64Xi", "5Gi", "1.5Gi", "Mi", "99999999999999999999"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseKeyValues(t *testing.T) {
	kv, err := parseKeyValues("variable", []string{"a=1", "b=x=y", "c="})
	if err != nil || kv["a"] != "1" || kv["b"] != "x=y" || kv["c"] != "" || len(kv) != 3 {
		t.Fatalf("got %v, %v", kv, err)
	}
	for _, bad := range []string{"novalue", "=v", ""} {
		_, err := parseKeyValues("variable", []string{bad})
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("parseKeyValues(%q): %v, want a usage error", bad, err)
		}
	}
}

func TestComponentIDFromFile(t *testing.T) {
	for in, want := range map[string]string{
		"/x/hello.wasm": "hello", "My_App.v2.wasm": "my-app-v2", "123.wasm": "app", "__.wasm": "app", "a--b.wasm": "a-b",
	} {
		if got := componentIDFromFile(in); got != want {
			t.Errorf("componentIDFromFile(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseLoadedMemory(t *testing.T) {
	good := map[string]int64{"0": 0, "5Gi": 5 << 30, "512MB": 512e6, "64Gi": 64 << 30}
	for in, want := range good {
		if got, err := parseLoadedMemory(in); err != nil || got != want {
			t.Errorf("parseLoadedMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "1.5Gi", "99999999999Gi", "Gi"} {
		if got, err := parseLoadedMemory(in); err == nil {
			t.Errorf("parseLoadedMemory(%q) = %d, want an error", in, got)
		}
	}
}

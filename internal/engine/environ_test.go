package engine

import (
	"reflect"
	"testing"
)

func TestEnviron(t *testing.T) {
	got, err := environ([]string{"A=1", "B=x=y", "A=22", "C="})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, kv := range got {
		s = append(s, string(kv))
	}
	if want := []string{"A=22\x00", "B=x=y\x00", "C=\x00"}; !reflect.DeepEqual(s, want) {
		t.Fatalf("got %q, want %q", s, want)
	}
	for _, bad := range []string{"A", "=1", "A=\x00"} {
		if _, err := environ([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

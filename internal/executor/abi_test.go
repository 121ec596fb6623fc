package executor

import "testing"

func TestSpeaksCanonicalABI(t *testing.T) {
	for _, tc := range []struct {
		exports []string
		want    bool
	}{
		{[]string{"_start", "memory"}, false},
		{[]string{"_initialize", "add", "cabi_realloc"}, false},
		{[]string{"wasi:http/incoming-handler@0.2.0#handle"}, true},
		{[]string{"handle-cron-event"}, true}, // world-level: fermyon:spin-cron
		{[]string{"handle-message"}, true},    // world-level: spin:mqtt-trigger
		{[]string{"not-a-world-func"}, false},
	} {
		if got := speaksCanonicalABI(tc.exports); got != tc.want {
			t.Errorf("speaksCanonicalABI(%v) = %v, want %v", tc.exports, got, tc.want)
		}
	}
}

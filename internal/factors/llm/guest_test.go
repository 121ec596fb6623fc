package llm_test

import (
	"context"
	"testing"

	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/llm"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// TestGuest runs a real guest (testdata/llmguest.wat) through
// component.LoadCore against the test backend: the canonical ABI of
// option<inferencing-params>, list<string> and list<list<f32>> end to end.
func TestGuest(t *testing.T) {
	b := newBackend(t)
	app := factortest.NewApp(lockedapp.Component{ID: "a", AIModels: []string{"llama2-chat"}})
	ac := factortest.NewAppContext(t, app, remoteConfig(b.srv.URL, ""))
	g := factortest.NewGuest(t, factortest.WAT(t, "testdata/llmguest.wat", nil), ac, llm.New())
	// A guest step failing with a code above 1 shows up as a trap (an
	// invalid result discriminant); the code names the step.
	g.Run(context.Background(), "a")
	opts := b.last()
	if opts.Path != "/embed" || b.count() != 2 {
		t.Fatalf("backend saw %d requests, last %+v", b.count(), opts)
	}
}

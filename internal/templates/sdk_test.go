package templates

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSDKZipInSync fails when sdk-go.zip is not the zip of sdk/go: run
// `go generate ./internal/templates` after changing the SDK.
func TestSDKZipInSync(t *testing.T) {
	want, err := ReadSDKDir(filepath.Join("..", "..", "sdk", "go"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := unzip(sdkZip)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("sdk-go.zip lacks %s", name)
		} else if !bytes.Equal(g, data) {
			t.Errorf("sdk-go.zip has an old %s", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("sdk-go.zip has %s, which sdk/go does not", name)
		}
	}
	if t.Failed() {
		t.Log("run: go generate ./internal/templates")
	}
	if _, ok := want["internal/testapp/main.go"]; ok {
		t.Error("the SDK's test guest is shipped to users")
	}
}

// TestGoSDKTemplatesUseTheCopiedSDK checks the generated go.mod points the
// SDK module at the copy written beside it.
func TestGoSDKTemplatesUseTheCopiedSDK(t *testing.T) {
	for _, id := range []string{"http-go", "redis-go"} {
		t.Run(id, func(t *testing.T) {
			dir := t.TempDir()
			newApp(t, id, dir, "app")
			data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range []string{
				"require github.com/wisp-dev/wisp/sdk/go v0.0.0",
				"replace github.com/wisp-dev/wisp/sdk/go => ./" + SDKDir,
			} {
				if !strings.Contains(string(data), "\n"+line+"\n") {
					t.Errorf("go.mod lacks %q:\n%s", line, data)
				}
			}
			sdkMod, err := os.ReadFile(filepath.Join(dir, SDKDir, "go.mod"))
			if err != nil || !strings.Contains(string(sdkMod), "module github.com/wisp-dev/wisp/sdk/go") {
				t.Fatalf("SDK go.mod: %v %q", err, sdkMod)
			}
		})
	}
}

package oci

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wisp-dev/wisp/internal/loader"
	"github.com/wisp-dev/wisp/internal/oci/registrytest"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

const testManifest = `spin_manifest_version = 2

[application]
name = "oci-test"
version = "1.2.3"
description = "pushed by a test"
authors = ["Ada <ada@example.com>", "Bob"]

[application.trigger.http]
base = "/"

[variables]
greeting = { default = "hello" }
token = { required = true, secret = true }

[[trigger.http]]
route = "/a/..."
component = "alpha"

[[trigger.http]]
route = "/wagi"
component = "beta"
executor = { type = "wagi", argv = "${SCRIPT_NAME} /data/big.txt" }

[[trigger.http]]
route = { private = true }
component = "beta"

[[trigger.http]]
route = "/teapot"
static_response = { status_code = 418, headers = { x-tea = "earl grey" }, body = "short and stout" }

[component.alpha]
description = "the first"
source = "alpha.wasm"
files = [{ source = "data", destination = "/data" }, "top.txt"]
environment = { MODE = "test" }
variables = { message = "{{ greeting }}" }
allowed_outbound_hosts = ["https://example.com", "http://beta.spin.internal"]
key_value_stores = ["default"]
sqlite_databases = ["default"]

[component.beta]
source = "alpha.wasm"
files = [{ source = "data", destination = "/data" }]
`

// testApp writes an app with two components sharing one Wasm binary and
// files of every kind (inline-sized, layer-sized, duplicated, nested),
// loads it, and returns it with its directory.
func testApp(t testing.TB) (*lockedapp.LockedApp, string) {
	t.Helper()
	dir := t.TempDir()
	big := strings.Repeat("a file large enough for its own layer\n", 10)
	files := map[string][]byte{
		"spin.toml":          []byte(testManifest),
		"alpha.wasm":         fakeWasm(t, 600),
		"data/big.txt":       []byte(big),
		"data/copy-of-big":   []byte(big), // same bytes: one layer
		"data/small.txt":     []byte("tiny\n"),
		"data/empty":         {},
		"data/sub/deep.bin":  randomBytes(t, 4096),
		"top.txt":            []byte("at the top\n"),
		"not-mounted/secret": []byte("never pushed"),
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := manifest.Load(filepath.Join(dir, "spin.toml"))
	if err != nil {
		t.Fatal(err)
	}
	app, err := loader.Load(context.Background(), m, loader.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return app, dir
}

// fakeWasm is a valid empty core module padded with a custom section, so
// that it is bigger than the inline limit and unique per call.
func fakeWasm(t testing.TB, size int) []byte {
	payload := append([]byte{4, 'p', 'a', 'd', '!'}, randomBytes(t, size)...)
	b := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 0}
	b = appendLEB(b, len(payload))
	return append(b, payload...)
}

func appendLEB(b []byte, n int) []byte {
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// anonymous is an empty credential store, so tests never read the
// user's Docker config.
func anonymous() Options {
	return Options{Credentials: credentials.NewMemoryStore()}
}

func TestPushPullRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t, registrytest.Options{})
	app, _ := testApp(t)
	ref := reg.Host + "/wisp/oci-test:v1"

	opts := anonymous()
	pushed, err := Push(ctx, app, ref, opts, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Layers: alpha.wasm once for both components, big.txt once for its
	// two copies and both components, deep.bin, the locked app. small.txt,
	// empty and top.txt are inline.
	var types []string
	for _, l := range pushed.Manifest.Layers {
		types = append(types, l.MediaType)
	}
	wantTypes := []string{MediaTypeWasm, MediaTypeData, MediaTypeData, MediaTypeLockedApp}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("layers = %v, want %v", types, wantTypes)
	}
	if pushed.Uploaded != 5 || pushed.Reused != 0 {
		t.Errorf("first push uploaded %d, reused %d blobs; want 5, 0", pushed.Uploaded, pushed.Reused)
	}

	cacheDir := t.TempDir()
	opts.CacheDir = cacheDir
	pulled, err := Pull(ctx, ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if pulled.Digest != pushed.Digest {
		t.Errorf("pulled manifest %s, pushed %s", pulled.Digest, pushed.Digest)
	}
	if pulled.Fetched != 3 || pulled.Cached != 0 {
		t.Errorf("pull fetched %d, cached %d layers; want 3, 0", pulled.Fetched, pulled.Cached)
	}
	assertSameApp(t, app, pulled.App, cacheDir)
	if got := pulled.App.Metadata.Origin; got != "oci://"+ref {
		t.Errorf("origin = %q", got)
	}

	// Pulling again uses the cache (after re-verifying it).
	again, err := Pull(ctx, ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Fetched != 0 || again.Cached != 3 {
		t.Errorf("second pull fetched %d, cached %d; want 0, 3", again.Fetched, again.Cached)
	}

	// A tampered cache entry is not trusted: it is fetched again.
	wasmPath := pulled.App.Components[0].Source.Path
	if err := os.WriteFile(wasmPath, []byte("\x00asm tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	healed, err := Pull(ctx, ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if healed.Fetched != 1 {
		t.Errorf("pull after cache tampering fetched %d layers, want 1", healed.Fetched)
	}
	assertSameApp(t, app, healed.App, cacheDir)
}

func TestPushTwiceReusesLayers(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t, registrytest.Options{})
	app, dir := testApp(t)

	first, err := Push(ctx, app, reg.Host+"/wisp/reuse:v1", anonymous(), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Push(ctx, app, reg.Host+"/wisp/reuse:v2", anonymous(), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	total := len(first.Manifest.Layers) + 1
	if second.Uploaded != 0 || second.Reused != total {
		t.Errorf("second push uploaded %d, reused %d; want 0, %d", second.Uploaded, second.Reused, total)
	}

	// Changing one file uploads that file's layer, the locked app and the
	// config, and nothing else.
	if err := os.WriteFile(filepath.Join(dir, "data", "sub", "deep.bin"), randomBytes(t, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(filepath.Join(dir, "spin.toml"))
	if err != nil {
		t.Fatal(err)
	}
	changed, err := loader.Load(ctx, m, loader.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	third, err := Push(ctx, changed, reg.Host+"/wisp/reuse:v3", anonymous(), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if third.Uploaded != 3 || third.Reused != total-3 {
		t.Errorf("push after one change uploaded %d, reused %d; want 3, %d", third.Uploaded, third.Reused, total-3)
	}
}

func TestPullRejectsTamperedBlob(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t, registrytest.Options{})
	app, _ := testApp(t)
	ref := reg.Host + "/wisp/tamper:v1"
	pushed, err := Push(ctx, app, ref, anonymous(), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Overwrite the Wasm layer in the registry's storage with other bytes
	// of the same length: the registry serves them under the old digest.
	wasm := pushed.Manifest.Layers[0]
	stored := reg.BlobPath(wasm.Digest.String())
	orig, err := os.ReadFile(stored)
	if err != nil {
		t.Fatal(err)
	}
	evil := bytes.Clone(orig)
	evil[len(evil)-1] ^= 0xff
	if err := os.WriteFile(stored, evil, 0o644); err != nil {
		t.Fatal(err)
	}

	opts := anonymous()
	opts.CacheDir = t.TempDir()
	_, err = Pull(ctx, ref, opts)
	if err == nil {
		t.Fatal("pull of a tampered blob succeeded")
	}
	for _, want := range []string{wasm.Digest.String(), "does not match its digest"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := os.Stat(blobCache{opts.CacheDir}.path(wasm.Digest)); !os.IsNotExist(err) {
		t.Errorf("tampered blob reached the cache: %v", err)
	}

	// A tampered locked app is rejected too.
	if err := os.WriteFile(stored, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	lockedLayer := pushed.Manifest.Layers[len(pushed.Manifest.Layers)-1]
	lockedPath := reg.BlobPath(lockedLayer.Digest.String())
	lockedJSON, err := os.ReadFile(lockedPath)
	if err != nil {
		t.Fatal(err)
	}
	forged := bytes.Replace(lockedJSON, []byte(`"MODE":"test"`), []byte(`"MODE":"evil"`), 1)
	if bytes.Equal(forged, lockedJSON) {
		t.Fatal("test setup: locked app lacks the environment entry")
	}
	if err := os.WriteFile(lockedPath, forged, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Pull(ctx, ref, opts); err == nil || !strings.Contains(err.Error(), "locked app") {
		t.Errorf("pull with a forged locked app: err = %v", err)
	}
}

func TestArchiveLayers(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t, registrytest.Options{})
	app, _ := testApp(t)
	ref := reg.Host + "/wisp/archive:v1"
	pushed, err := Push(ctx, app, ref, anonymous(), PushOptions{ArchiveLayers: true})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, l := range pushed.Manifest.Layers {
		types = append(types, l.MediaType)
	}
	// alpha's and beta's archives differ (alpha also has top.txt).
	want := []string{MediaTypeWasm, MediaTypeArchive, MediaTypeArchive, MediaTypeLockedApp}
	if !slices.Equal(types, want) {
		t.Fatalf("layers = %v, want %v", types, want)
	}
	opts := anonymous()
	opts.CacheDir = t.TempDir()
	pulled, err := Pull(ctx, ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertSameApp(t, app, pulled.App, opts.CacheDir)

	// Archives are reproducible, so pushing again reuses them.
	again, err := Push(ctx, app, ref, anonymous(), PushOptions{ArchiveLayers: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.Uploaded != 0 {
		t.Errorf("second archive push uploaded %d blobs, want 0", again.Uploaded)
	}
}

func TestLoginAndAuthenticatedPushPull(t *testing.T) {
	ctx := context.Background()
	const user, password = "wisp-user", "s3cret-Passw0rd"
	reg := registrytest.Start(t, registrytest.Options{Users: map[string]string{user: password}})
	app, _ := testApp(t)
	ref := reg.Host + "/private/app:v1"

	if _, err := Push(ctx, app, ref, anonymous(), PushOptions{}); err == nil {
		t.Fatal("anonymous push to an authenticated registry succeeded")
	}

	configPath := filepath.Join(t.TempDir(), "config.json")
	store, err := credentials.NewStore(configPath, credentials.StoreOptions{AllowPlaintextPut: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Credentials: store}

	err = Login(ctx, reg.Host, user, "wrong-password", opts)
	if err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("login error leaks the password: %v", err)
	}
	if _, err := os.Stat(configPath); !os.IsNotExist(err) {
		t.Errorf("a failed login wrote credentials: %v", err)
	}

	if err := Login(ctx, "http://"+reg.Host+"/", user, password, opts); err != nil {
		t.Fatal(err)
	}
	// The credentials are in Docker's format, readable by a fresh store.
	var cfg struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	data, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil || cfg.Auths[reg.Host].Auth == "" {
		t.Fatalf("config.json after login = %s (%v)", data, err)
	}
	fresh, err := credentials.NewStore(configPath, credentials.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts = Options{Credentials: fresh, CacheDir: t.TempDir()}
	if _, err := Push(ctx, app, ref, opts, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	pulled, err := Pull(ctx, ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertSameApp(t, app, pulled.App, opts.CacheDir)
}

// assertSameApp checks that pulled is app with every path in the cache and
// every byte the same.
func assertSameApp(t *testing.T, app, pulled *lockedapp.LockedApp, cacheDir string) {
	t.Helper()
	want := normalized(t, app, "")
	got := normalized(t, pulled, cacheDir)
	wj, _ := json.MarshalIndent(want, "", "  ")
	gj, _ := json.MarshalIndent(got, "", "  ")
	if !bytes.Equal(wj, gj) {
		t.Errorf("pulled app differs:\n got %s\nwant %s", gj, wj)
	}
}

// normalized replaces paths by the digests of their content (checking that
// pulled paths lie in the cache) and drops the origin.
func normalized(t *testing.T, app *lockedapp.LockedApp, cacheDir string) *lockedapp.LockedApp {
	t.Helper()
	inCache := func(p string) {
		if cacheDir != "" && !strings.HasPrefix(p, cacheDir+string(filepath.Separator)) {
			t.Errorf("pulled path %s is outside the cache %s", p, cacheDir)
		}
	}
	hash := func(p string) string {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return digest.FromBytes(data).String()
	}
	var out lockedapp.LockedApp
	data, _ := json.Marshal(app)
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	out.Metadata.Origin = ""
	for i := range out.Components {
		c := &out.Components[i]
		inCache(c.Source.Path)
		if got := hash(c.Source.Path); got != c.Source.Digest {
			t.Errorf("component %s: source %s holds %s, not %s", c.ID, c.Source.Path, got, c.Source.Digest)
		}
		c.Source.Path = ""
		for j := range c.Files {
			inCache(c.Files[j].Source)
			c.Files[j].Source = hash(c.Files[j].Source)
		}
	}
	return &out
}

func TestSpinArtifactFormat(t *testing.T) {
	// The artifact as Spin's crates/oci builds it, field by field.
	app, _ := testApp(t)
	art, err := assemble(app, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// The image config: oci-client's ConfigFile with architecture "wasm",
	// os "Wasip1", the locked-app label, and an empty rootfs.
	locked := art.layers[len(art.layers)-1]
	if locked.desc.MediaType != "application/vnd.fermyon.spin.application.v1+config" {
		t.Errorf("last layer is %s, want the locked app", locked.desc.MediaType)
	}
	if art.config.desc.MediaType != "application/vnd.oci.image.config.v1+json" {
		t.Errorf("config media type = %s", art.config.desc.MediaType)
	}
	wantConfig := `{"architecture":"wasm","os":"Wasip1","config":{"Labels":{"com.fermyon.spin.lockedAppDigest":"` +
		locked.desc.Digest.String() + `"}},"rootfs":{"type":"layers","diff_ids":[]}}`
	if string(art.config.data) != wantConfig {
		t.Errorf("config = %s\nwant   %s", art.config.data, wantConfig)
	}

	// Layer media types Spin's pull understands.
	for _, l := range art.layers {
		switch l.desc.MediaType {
		case "application/vnd.wasm.content.layer.v1+wasm", "application/vnd.wasm.content.layer.v1+data",
			"application/vnd.fermyon.spin.application.v1+config":
		default:
			t.Errorf("layer media type %s is not one of Spin's", l.desc.MediaType)
		}
	}

	// Annotations: the keys Spin infers (all_annotations).
	ann := annotations(app, map[string]string{"org.opencontainers.image.version": "override"})
	wantAnn := map[string]string{
		"org.opencontainers.image.title":       "oci-test",
		"org.opencontainers.image.description": "pushed by a test",
		"org.opencontainers.image.version":     "override",
		"org.opencontainers.image.authors":     "Ada <ada@example.com>, Bob",
	}
	for k, v := range wantAnn {
		if ann[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, ann[k], v)
		}
	}
	if ann["org.opencontainers.image.created"] == "" || len(ann) != 5 {
		t.Errorf("annotations = %v", ann)
	}

	// The locked app: Spin's LockedApp JSON.
	var got map[string]any
	if err := json.Unmarshal(locked.data, &got); err != nil {
		t.Fatal(err)
	}
	component := func(id string) map[string]any {
		for _, c := range got["components"].([]any) {
			if c.(map[string]any)["id"] == id {
				return c.(map[string]any)
			}
		}
		t.Fatalf("no component %s", id)
		return nil
	}
	trigger := func(route any) map[string]any {
		for _, tr := range got["triggers"].([]any) {
			tm := tr.(map[string]any)
			if cfg := tm["trigger_config"].(map[string]any); jsonEqual(cfg["route"], route) {
				return tm
			}
		}
		t.Fatalf("no trigger with route %v", route)
		return nil
	}
	wasmDigest := art.layers[0].desc.Digest.String()
	checks := []struct {
		name      string
		got, want any
	}{
		// Component host requirements (for *.spin.internal) make it version 1.
		{"spin_lock_version", got["spin_lock_version"], 1.0},
		{"must_understand", got["must_understand"], []any{"component_host_requirements"}},
		{"metadata", got["metadata"], map[string]any{
			"name": "oci-test", "version": "1.2.3", "description": "pushed by a test",
			"authors":  []any{"Ada <ada@example.com>", "Bob"},
			"triggers": map[string]any{"http": map[string]any{"base": "/"}},
			"trigger":  map[string]any{"type": "http", "base": "/"},
		}},
		{"variables", got["variables"], map[string]any{
			"greeting": map[string]any{"default": "hello"},
			"token":    map[string]any{"secret": true},
		}},
		{"alpha.metadata", component("alpha")["metadata"], map[string]any{
			"description":            "the first",
			"allowed_outbound_hosts": []any{"https://example.com", "http://beta.spin.internal"},
			"key_value_stores":       []any{"default"},
			"databases":              []any{"default"},
		}},
		{"alpha.host_requirements", component("alpha")["host_requirements"], map[string]any{"local_service_chaining": "required"}},
		{"alpha.source", component("alpha")["source"], map[string]any{"content_type": "application/wasm", "digest": wasmDigest}},
		{"alpha.env", component("alpha")["env"], map[string]any{"MODE": "test"}},
		{"alpha.config", component("alpha")["config"], map[string]any{"message": "{{ greeting }}"}},
		{"beta.source", component("beta")["source"], map[string]any{"content_type": "application/wasm", "digest": wasmDigest}},
		{"beta.files", component("beta")["files"], []any{
			map[string]any{"path": "data/big.txt", "digest": art.layers[1].desc.Digest.String()},
			map[string]any{"path": "data/copy-of-big", "digest": art.layers[1].desc.Digest.String()},
			// Inline content is base64 without padding (spin_serde::base64).
			map[string]any{"path": "data/empty", "digest": digest.FromBytes(nil).String(), "inline": ""},
			map[string]any{"path": "data/small.txt", "digest": digest.FromString("tiny\n").String(), "inline": "dGlueQo"},
			map[string]any{"path": "data/sub/deep.bin", "digest": art.layers[2].desc.Digest.String()},
		}},
		{"http trigger", trigger("/a/...")["trigger_config"], map[string]any{"route": "/a/...", "component": "alpha"}},
		{"wagi trigger", trigger("/wagi")["trigger_config"], map[string]any{
			"route": "/wagi", "component": "beta",
			"executor": map[string]any{"type": "wagi", "argv": "${SCRIPT_NAME} /data/big.txt", "entrypoint": "_start"},
		}},
		{"private trigger", trigger(map[string]any{"private": true})["trigger_config"], map[string]any{
			"route": map[string]any{"private": true}, "component": "beta",
		}},
		{"static trigger", trigger("/teapot")["trigger_config"], map[string]any{
			"route": "/teapot",
			"static_response": map[string]any{
				"status_code": 418.0, "headers": map[string]any{"x-tea": "earl grey"}, "body": "short and stout",
			},
		}},
		{"trigger_type", trigger("/teapot")["trigger_type"], "http"},
	}
	for _, c := range checks {
		if !jsonEqual(c.got, c.want) {
			gj, _ := json.Marshal(c.got)
			wj, _ := json.Marshal(c.want)
			t.Errorf("%s = %s\nwant %s", c.name, gj, wj)
		}
	}
	if _, ok := got["metadata"].(map[string]any)["origin"]; ok {
		t.Error("the locked app carries the pusher's origin")
	}
}

func jsonEqual(a, b any) bool {
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	return bytes.Equal(aj, bj)
}

// TestFromSpinApp reads locked apps as Spin writes them, and refuses what
// Wisp cannot run or what could escape.
func TestFromSpinApp(t *testing.T) {
	cache := blobCache{dir: t.TempDir()}
	wasm := fakeWasm(t, 300)
	wasmDigest, err := cache.writeBytes(wasm)
	if err != nil {
		t.Fatal(err)
	}
	available := map[digest.Digest]bool{wasmDigest: true}
	resolve := func(what string, ref spinContentRef) (string, string, error) {
		return resolveContent(cache, available, what, ref)
	}

	// A locked app as `spin registry push` writes it (spin_lock_version 0,
	// "http" executor spelling, a padded inline file, build metadata).
	spinJSON := `{
	  "spin_lock_version": 0,
	  "metadata": {"name": "from-spin", "authors": [], "triggers": {"http": {}}, "trigger": {"type": "http"}},
	  "triggers": [
	    {"id": "t1", "trigger_type": "http", "trigger_config": {"route": "/...", "component": "web", "executor": {"type": "http"}}},
	    {"id": "t2", "trigger_type": "redis", "trigger_config": {"channel": "ch", "component": "web"}}
	  ],
	  "components": [{
	    "id": "web",
	    "metadata": {"build": {"command": "make"}, "allowed_outbound_hosts": ["https://x.example"]},
	    "source": {"content_type": "application/wasm", "digest": "` + wasmDigest.String() + `"},
	    "files": [{"path": "static/index.html", "inline": "aGk=", "digest": "` + digest.FromString("hi").String() + `"}]
	  }]
	}`
	var s spinApp
	if err := json.Unmarshal([]byte(spinJSON), &s); err != nil {
		t.Fatal(err)
	}
	app, err := fromSpinApp(&s, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if app.Metadata.Name != "from-spin" || len(app.Triggers) != 2 || app.Triggers[0].HTTP.Executor.Type != "spin" ||
		app.Triggers[1].Config["channel"] != "ch" || app.Triggers[1].Component != "web" {
		t.Errorf("app = %+v", app)
	}
	c := app.Components[0]
	if c.Source.Digest != wasmDigest.String() || len(c.Files) != 1 || c.Files[0].Destination != "/static/index.html" {
		t.Errorf("component = %+v", c)
	}
	if data, _ := os.ReadFile(c.Files[0].Source); string(data) != "hi" {
		t.Errorf("inline file = %q", data)
	}

	bad := []struct {
		name, mutate, want string
	}{
		{"dependencies", `"dependencies": {"a:b/c": {"source": {"content_type": "application/wasm", "digest": "` + wasmDigest.String() + `"}}}`, "dependencies are not supported"},
		{"escape", `"files": [{"path": "../../etc/passwd", "inline": "eA"}]`, "not a plain relative path"},
		{"absolute", `"files": [{"path": "/etc/passwd", "inline": "eA"}]`, "not a relative"},
		{"not in artifact", `"files": [{"path": "x", "digest": "` + digest.FromString("other").String() + `"}]`, "not among the artifact's layers"},
		{"inline mismatch", `"files": [{"path": "x", "inline": "eA", "digest": "` + digest.FromString("y").String() + `"}]`, "not the sha256"},
		{"file url", `"files": [{"path": "x", "source": "file:///etc/passwd"}]`, "outside the artifact"},
		{"host requirement", `"host_requirements": {"teleport": "required"}`, "does not support"},
		{"sha512", `"files": [{"path": "x", "digest": "sha512:` + strings.Repeat("ab", 64) + `"}]`, "only sha256"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			j := `{"spin_lock_version": 1, "triggers": [], "components": [{"id": "c",
			  "source": {"content_type": "application/wasm", "digest": "` + wasmDigest.String() + `"}, ` + tc.mutate + `}]}`
			var s spinApp
			if err := json.Unmarshal([]byte(j), &s); err != nil {
				t.Fatal(err)
			}
			_, err := fromSpinApp(&s, resolve)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestFromSpinAppRejectsUnsafeNames(t *testing.T) {
	cache := blobCache{dir: t.TempDir()}
	resolve := func(what string, ref spinContentRef) (string, string, error) {
		return resolveContent(cache, map[digest.Digest]bool{}, what, ref)
	}
	for name, j := range map[string]string{
		"component id": `{"triggers": [], "components": [{"id": "../../logs/x", "source": {"inline": "AGFzbQ"}}]}`,
		"kv label":     `{"triggers": [], "components": [{"id": "c", "metadata": {"key_value_stores": ["../db"]}, "source": {"inline": "AGFzbQ"}}]}`,
		"variable":     `{"variables": {"../x": {"default": "1"}}, "triggers": [], "components": []}`,
		"trigger id":   `{"triggers": [{"id": "a/b", "trigger_type": "http", "trigger_config": {"route": "/", "component": "c"}}], "components": []}`,
	} {
		var s spinApp
		if err := json.Unmarshal([]byte(j), &s); err != nil {
			t.Fatal(err)
		}
		if _, err := fromSpinApp(&s, resolve); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPushRefusesNonWasm(t *testing.T) {
	app, dir := testApp(t)
	if err := os.WriteFile(filepath.Join(dir, "alpha.wasm"), []byte("(module)"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := assemble(app, PushOptions{})
	if err == nil || !strings.Contains(err.Error(), "not a WebAssembly binary") {
		t.Errorf("err = %v", err)
	}
}

func TestLooksLikeReference(t *testing.T) {
	for s, want := range map[string]bool{
		"ghcr.io/user/app:v1": true,
		"localhost:5000/app":  true,
		"127.0.0.1:5000/a/b@sha256:" + strings.Repeat("0", 64): true,
		"localhost/app:1":       true,
		"oci://example.com/app": true,
		"spin.toml":             false,
		"apps/demo/spin.toml":   false,
		"apps/demo":             false,
		"../x/spin.toml":        false,
		"hello.wasm":            false,
		"./ghcr.io/user/app":    false,
	} {
		if got := LooksLikeReference(s); got != want {
			t.Errorf("LooksLikeReference(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestRegistryIsNotADependency: the test registry lives in its own module
// (tools/registry) and must never be linked into wisp.
func TestRegistryIsNotADependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/wisp-dev/wisp/cmd/wisp").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/distribution/") || strings.HasPrefix(p, "github.com/wisp-dev/wisp/internal/oci/registrytest") {
			t.Errorf("wisp depends on %s", p)
		}
	}
	if !strings.Contains(string(out), "oras.land/oras-go/v2/registry/remote\n") {
		t.Error("wisp does not link oras-go: is the registry command wired?")
	}
}

// TestSpinLoaderGolden pushes the locked app Spin's loader produces for one
// of Spin's own test manifests: loading it with Wisp's loader and
// converting must give the same JSON as Spin's, value for value.
func TestSpinLoaderGolden(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("testdata", "service-chaining")
	data, err := os.ReadFile(filepath.Join(src, "spin.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	wasm := fakeWasm(t, 200)
	if err := os.MkdirAll(filepath.Join(dir, "wasm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm", "dummy.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(filepath.Join(dir, "spin.toml"))
	if err != nil {
		t.Fatal(err)
	}
	app, err := loader.Load(context.Background(), m, loader.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	art, err := assemble(app, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expected, err := os.ReadFile(filepath.Join(src, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	expected = bytes.ReplaceAll(expected, []byte("DIGEST"), []byte(digest.FromBytes(wasm).String()))
	var want, got any
	if err := json.Unmarshal(expected, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(art.layers[len(art.layers)-1].data, &got); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("locked app differs from Spin's:\n%s", gj)
	}
	// And it reads back.
	var s spinApp
	if err := json.Unmarshal(art.layers[len(art.layers)-1].data, &s); err != nil {
		t.Fatal(err)
	}
	cache := blobCache{dir: t.TempDir()}
	d, err := cache.writeBytes(wasm)
	if err != nil {
		t.Fatal(err)
	}
	back, err := fromSpinApp(&s, func(what string, ref spinContentRef) (string, string, error) {
		return resolveContent(cache, map[digest.Digest]bool{d: true}, what, ref)
	})
	if err != nil {
		t.Fatal(err)
	}
	assertSameApp(t, app, back, cache.dir)
}

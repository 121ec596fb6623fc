package templates

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/build"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

// newApp creates an app from template id with every default.
func newApp(t *testing.T, id, dir, name string) *manifest.Manifest {
	t.Helper()
	tmpl, ok := Lookup(id)
	if !ok {
		t.Fatalf("no template %s", id)
	}
	values, err := tmpl.ResolveValues(ModeNew, nil, Vars(name, "."))
	if err != nil {
		t.Fatal(err)
	}
	if err := tmpl.NewApp(dir, name, values); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(dir)
	if err != nil {
		t.Fatalf("generated spin.toml does not load: %v", err)
	}
	return m
}

func addComponent(t *testing.T, id, manifestPath, name string) error {
	t.Helper()
	tmpl, _ := Lookup(id)
	values, err := tmpl.ResolveValues(ModeAdd, nil, Vars(name, name))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl.AddComponent(manifestPath, name, "", values)
}

func TestNewAppEveryTemplate(t *testing.T) {
	for _, tmpl := range List() {
		t.Run(tmpl.ID, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "app")
			m := newApp(t, tmpl.ID, dir, "My_App")
			if m.Application.Name != "my-app" {
				t.Errorf("application name = %q", m.Application.Name)
			}
			c, ok := m.Components["my-app"]
			if !ok || c.Build == nil || len(c.Build.Commands) != 1 {
				t.Fatalf("component my-app with one build command missing: %+v", m.Components)
			}
			if len(m.Triggers) != 1 {
				t.Fatalf("want one trigger, got %+v", m.Triggers)
			}
			switch tmpl.ID {
			case "http-go":
				if m.Triggers[0].HTTP == nil || m.Triggers[0].HTTP.Executor.Type == manifest.ExecutorWAGI {
					t.Errorf("want a wasi:http trigger, got %+v", m.Triggers[0])
				}
			case "redis-go", "mqtt-go", "cron-go":
				if want := strings.TrimSuffix(tmpl.ID, "-go"); m.Triggers[0].Type != want {
					t.Errorf("want a %s trigger, got %+v", want, m.Triggers[0])
				}
			default:
				if m.Triggers[0].HTTP == nil || m.Triggers[0].HTTP.Executor.Type != manifest.ExecutorWAGI {
					t.Errorf("want one WAGI http trigger, got %+v", m.Triggers)
				}
			}
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					data, _ := os.ReadFile(p)
					if bytes.Contains(data, []byte("{{")) {
						t.Errorf("%s still holds '{{'", p)
					}
					if strings.HasSuffix(p, ".tmpl") {
						t.Errorf("%s kept its .tmpl suffix", p)
					}
				}
				return nil
			})
		})
	}
}

func TestStaticFileserverShipsGuestSource(t *testing.T) {
	dir := t.TempDir()
	m := newApp(t, "static-fileserver", dir, "site")
	for _, f := range []string{"main.go", "fileserver.go", "go.mod", "assets/index.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	got := m.Components["site"].Files
	if len(got) != 1 || got[0].Source != "assets" || got[0].Destination != "/" {
		t.Errorf("files = %+v", got)
	}
	if route := m.Triggers[0].HTTP.Route; route != "/..." {
		t.Errorf("route = %q", route)
	}
}

func TestNewAppRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o644)
	tmpl, _ := Lookup("http-go")
	err := tmpl.NewApp(dir, "app", map[string]string{"project-description": "", "http-path": "/..."})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v, want a non-empty directory error", err)
	}
	// An empty directory is fine.
	if err := tmpl.NewApp(t.TempDir(), "app", map[string]string{"project-description": "", "http-path": "/..."}); err != nil {
		t.Fatal(err)
	}
}

func TestResolveValues(t *testing.T) {
	tmpl, _ := Lookup("http-go")
	vars := Vars("Api", "api")
	got, err := tmpl.ResolveValues(ModeAdd, nil, vars)
	if err != nil || got["http-path"] != "/api/..." || len(got) != 1 {
		t.Errorf("add defaults = %v, %v; want http-path /api/... only", got, err)
	}
	got, err = tmpl.ResolveValues(ModeNew, map[string]string{"http-path": "/x/..."}, vars)
	if err != nil || got["http-path"] != "/x/..." || got["project-description"] != "" {
		t.Errorf("new values = %v, %v", got, err)
	}
	for _, given := range []map[string]string{
		{"nope": "1"},
		{"http-path": "no-slash"},
		{"http-path": "/a b"},
		{"project-description": `has "quotes"`},
	} {
		if _, err := tmpl.ResolveValues(ModeNew, given, vars); err == nil {
			t.Errorf("ResolveValues(%v) accepted", given)
		}
	}
	if _, err := tmpl.ResolveValues(ModeAdd, map[string]string{"project-description": "x"}, vars); err == nil {
		t.Error("project-description accepted by wisp add")
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"a", "hello", "my-app", "My_App2"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1app", "-x", "a/b", "../x", "a b", `a"b`, "a.b"} {
		if ValidateName(bad) == nil {
			t.Errorf("ValidateName(%q) accepted", bad)
		}
	}
}

func TestAddComponentKeepsManifestText(t *testing.T) {
	dir := t.TempDir()
	newApp(t, "http-go", dir, "first")
	path := filepath.Join(dir, "spin.toml")
	// The user's own comments and formatting must survive untouched.
	custom := "# Top comment kept by wisp add\n" + readFile(t, path) + "\n# trailing comment\n   \n"
	os.WriteFile(path, []byte(custom), 0o644)

	for _, id := range []string{"http-go", "http-c", "http-rust", "static-fileserver", "http-go-wagi", "redis-go", "cron-go"} {
		name := strings.ReplaceAll(id, "-", "_")
		if err := addComponent(t, id, path, name); err != nil {
			t.Fatalf("add %s: %v", id, err)
		}
	}
	updated := readFile(t, path)
	if !strings.HasPrefix(updated, strings.TrimRight(custom, " \n")+"\n\n[[trigger.http]]") {
		t.Errorf("manifest text before the new component changed:\n%s", updated)
	}
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatalf("manifest after add: %v", err)
	}
	c := m.Components["http-rust"]
	if c == nil || c.Source.Path != "http_rust/main.wasm" || c.Build.Workdir != "http_rust" {
		t.Fatalf("added component = %+v", c)
	}
	if fs := m.Components["static-fileserver"].Files; len(fs) != 1 || fs[0].Source != "static_fileserver/assets" {
		t.Errorf("fileserver files = %+v", fs)
	}
	for _, f := range []string{"http_go/main.go", "http_go/go.mod", "http_go/wisp-sdk-go/go.mod", "redis_go/wisp-sdk-go/redistrigger/redistrigger.go", "cron_go/wisp-sdk-go/crontrigger/crontrigger.go", "http_go_wagi/main.go", "http_c/main.c", "http_rust/src/main.rs", "static_fileserver/assets/index.html", "static_fileserver/fileserver.go"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "http_go", "spin.toml")); err == nil {
		t.Error("wisp add wrote a spin.toml into the component directory")
	}
}

func TestAddComponentRejectsDuplicate(t *testing.T) {
	dir := t.TempDir()
	newApp(t, "http-go", dir, "api")
	path := filepath.Join(dir, "spin.toml")
	before := readFile(t, path)

	err := addComponent(t, "http-c", path, "api")
	var exists *ComponentExistsError
	if !errors.As(err, &exists) || exists.ID != "api" {
		t.Fatalf("err = %v, want ComponentExistsError", err)
	}
	if readFile(t, path) != before {
		t.Error("manifest changed on a rejected add")
	}
	if _, err := os.Stat(filepath.Join(dir, "api")); err == nil {
		t.Error("component directory created on a rejected add")
	}
	// The id is the kebab-case name, so "Api" is the same component.
	if err := addComponent(t, "http-c", path, "Api"); !errors.As(err, &exists) {
		t.Errorf("err = %v for a name with the same id", err)
	}
}

func TestAddComponentRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	newApp(t, "http-go", dir, "app")
	os.MkdirAll(filepath.Join(dir, "web"), 0o755)
	os.WriteFile(filepath.Join(dir, "web", "mine.txt"), nil, 0o644)
	path := filepath.Join(dir, "spin.toml")
	before := readFile(t, path)
	if err := addComponent(t, "http-c", path, "web"); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v", err)
	}
	if readFile(t, path) != before {
		t.Error("manifest changed")
	}
}

// TestTemplatesBuild builds every template's app with the real toolchain,
// exactly as `wisp build` would, and checks that a Wasm module comes out.
func TestTemplatesBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds with real toolchains")
	}
	for _, tmpl := range List() {
		t.Run(tmpl.ID, func(t *testing.T) {
			requireToolchain(t, tmpl.ID)
			dir := t.TempDir()
			m := newApp(t, tmpl.ID, dir, "hello")
			var out bytes.Buffer
			err := build.Build(context.Background(), m, build.Options{Stdout: &out, Stderr: &out})
			if err != nil {
				t.Fatalf("build: %v\n%s", err, out.String())
			}
			wasm, err := os.ReadFile(filepath.Join(dir, m.Components["hello"].Source.Path))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(wasm, []byte("\x00asm\x01\x00\x00\x00")) {
				t.Fatalf("%s is not a core Wasm module", m.Components["hello"].Source.Path)
			}
		})
	}
}

// requireToolchain makes the template's build command runnable here, or
// skips (fails on CI, which must not lose coverage silently).
func requireToolchain(t *testing.T, id string) {
	t.Helper()
	missing := func(err error) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("toolchain for %s is required in CI: %v (run scripts/deps.sh)", id, err)
		}
		t.Skipf("skipping: no toolchain for %s: %v (run scripts/deps.sh)", id, err)
	}
	ctx := context.Background()
	switch id {
	case "http-go", "http-go-wagi", "redis-go", "mqtt-go", "cron-go", "static-fileserver":
		if _, err := exec.LookPath("go"); err != nil {
			missing(err)
		}
	case "http-c":
		t.Setenv("WASI_CC", "")
		if err := build.ProbeClang(ctx, "clang-19", "wasm32-wasi"); err != nil {
			missing(err)
		}
	case "http-rust":
		// The rustc on PATH often lacks the wasm target (rustup without
		// it); the template honours $RUSTC for exactly this case.
		rustc, err := build.FindRustc(ctx, "wasm32-wasi")
		if err != nil {
			missing(err)
		}
		t.Setenv("RUSTC", rustc)
	default:
		t.Fatalf("no toolchain known for template %s", id)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestTriggerTemplatesManifests: the MQTT and cron templates write the
// plugin-compatible shape Wisp's triggers read: the broker in
// [application.trigger.mqtt], topic and qos per trigger, cron_expression
// per trigger; `wisp add` asks only for what belongs to the component.
func TestTriggerTemplatesManifests(t *testing.T) {
	tmpl, _ := Lookup("mqtt-go")
	values, err := tmpl.ResolveValues(ModeNew, map[string]string{
		"mqtt-address": "mqtt://broker:1883", "mqtt-username": "u", "mqtt-password": "p",
		"mqtt-keep-alive-interval": "15", "mqtt-topic": "sensors/+/temp", "mqtt-qos": "2",
	}, Vars("m", "."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tmpl.NewApp(dir, "m", values); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"address": "mqtt://broker:1883", "username": "u", "password": "p", "keep_alive_interval": "15"}
	for k, v := range want {
		if got := m.Application.TriggerConfig["mqtt"][k]; got != v {
			t.Errorf("[application.trigger.mqtt] %s = %v, want %v", k, got, v)
		}
	}
	if mt := m.Triggers[0].MQTT; mt == nil || mt.Topic != "sensors/+/temp" || mt.QoS != 2 || m.Triggers[0].Component != "m" {
		t.Errorf("trigger = %+v %+v", m.Triggers[0], mt)
	}
	add, err := tmpl.ResolveValues(ModeAdd, nil, Vars("x", "x"))
	if err != nil || len(add) != 2 || add["mqtt-topic"] != "messages" || add["mqtt-qos"] != "1" {
		t.Errorf("add values = %v, %v; want mqtt-topic and mqtt-qos only", add, err)
	}
	for _, given := range []map[string]string{
		{"mqtt-address": "http://broker"},
		{"mqtt-qos": "3"},
		{"mqtt-keep-alive-interval": "65536"},
		{"mqtt-topic": "a b"},
		{"mqtt-password": `p"w`},
	} {
		if _, err := tmpl.ResolveValues(ModeNew, given, Vars("m", ".")); err == nil {
			t.Errorf("mqtt-go accepted %v", given)
		}
	}

	tmpl, _ = Lookup("cron-go")
	m = newApp(t, "cron-go", t.TempDir(), "c")
	if ct := m.Triggers[0].Cron; ct == nil || ct.CronExpression != "1/2 * * * * *" {
		t.Errorf("cron trigger = %+v", ct)
	}
	for _, expr := range []string{"* * * * * *", "0 */5 * * * * *", "@hourly", "@every 1m30s"} {
		if _, err := tmpl.ResolveValues(ModeNew, map[string]string{"cron-expression": expr}, Vars("c", ".")); err != nil {
			t.Errorf("cron-expression %q: %v", expr, err)
		}
	}
	for _, expr := range []string{"* * * * *", `"`, "", "{{ x }} * * * * *"} {
		if _, err := tmpl.ResolveValues(ModeNew, map[string]string{"cron-expression": expr}, Vars("c", ".")); err == nil {
			t.Errorf("cron-expression %q accepted", expr)
		}
	}
}

// TestAddMQTTComponent: `wisp add mqtt-go` adds a subscription on the
// application's broker, and refuses an app without one (the manifest
// would not load) without touching anything.
func TestAddMQTTComponent(t *testing.T) {
	dir := t.TempDir()
	newApp(t, "mqtt-go", dir, "first")
	path := filepath.Join(dir, "spin.toml")
	if err := addComponent(t, "mqtt-go", path, "second"); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Triggers) != 2 || m.Triggers[1].Component != "second" || m.Triggers[1].MQTT == nil || m.Triggers[1].MQTT.Topic != "messages" {
		t.Errorf("triggers = %+v", m.Triggers)
	}
	if _, err := os.Stat(filepath.Join(dir, "second", "wisp-sdk-go", "mqtttrigger", "mqtttrigger.go")); err != nil {
		t.Error(err)
	}

	dir = t.TempDir()
	newApp(t, "http-go", dir, "web")
	path = filepath.Join(dir, "spin.toml")
	before := readFile(t, path)
	err = addComponent(t, "mqtt-go", path, "listener")
	if err == nil || !strings.Contains(err.Error(), "[application.trigger.mqtt]") {
		t.Fatalf("add to an app without a broker: %v", err)
	}
	if readFile(t, path) != before {
		t.Error("manifest changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "listener")); err == nil {
		t.Error("component directory created")
	}
}

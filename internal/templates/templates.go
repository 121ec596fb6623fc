// Package templates holds the application templates behind `wisp new` and
// `wisp add`, embedded in the binary, and renders them.
//
// A template has metadata (id, description, parameters), content (the files
// of a new application, spin.toml included) and a component snippet: the
// [[trigger]] and [component] TOML that `wisp add` appends to an existing
// spin.toml. Files are rendered with Render ({{ name | filter }}), except a
// file named *.tmpl loses that suffix (go.mod cannot be embedded under its
// own name, and Go source that imports the SDK must not be a package of
// Wisp's own module) and shipped guest source is copied as is.
package templates

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/wisp-dev/wisp/guests"
)

//go:embed all:builtin
var builtinFS embed.FS

// Template is one application template.
type Template struct {
	ID          string
	Description string
	Tags        []string
	Parameters  []Parameter

	// dir is the template's directory in builtinFS: content/ holds the new
	// app's files, component.txt the snippet for `wisp add`.
	dir string
	// verbatim files are copied into the app or component directory
	// without rendering (the fileserver guest's Go source).
	verbatim fs.FS
	// goSDK adds the Wisp Go SDK's source under SDKDir.
	goSDK bool
}

// Parameter is a value the template asks for, like Spin's template parameters.
type Parameter struct {
	Name    string
	Prompt  string
	Default string
	// AddDefault, when set, is the default for `wisp add`; it may refer to
	// other variables ("/{{project-name | kebab_case}}/...").
	AddDefault string
	// NewOnly parameters are not asked for by `wisp add` (the description
	// belongs to the application, not to a component).
	NewOnly bool
	// Pattern, when set, must match the whole value; PatternHelp says why.
	Pattern     *regexp.Regexp
	PatternHelp string
}

// Validate reports whether v is an acceptable value for p.
func (p Parameter) Validate(v string) error {
	if p.Pattern != nil && !p.Pattern.MatchString(v) {
		return fmt.Errorf("invalid value %q for %s: %s", v, p.Name, p.PatternHelp)
	}
	return nil
}

// Mode says whether a template is used to create an app or add a component.
type Mode int

const (
	ModeNew Mode = iota
	ModeAdd
)

// ParametersFor returns the parameters asked for in mode.
func (t *Template) ParametersFor(mode Mode) []Parameter {
	var ps []Parameter
	for _, p := range t.Parameters {
		if mode == ModeAdd && p.NewOnly {
			continue
		}
		if mode == ModeAdd && p.AddDefault != "" {
			p.Default = p.AddDefault
		}
		ps = append(ps, p)
	}
	return ps
}

var (
	descriptionParam = Parameter{
		Name:        "project-description",
		Prompt:      "Description",
		NewOnly:     true,
		Pattern:     regexp.MustCompile(`^[^"\\\x00-\x1f]*$`),
		PatternHelp: `a description is one line without '"' or '\'`,
	}
	routePattern = regexp.MustCompile(`^/\S*$`)
)

func httpPathParam(def, addDef string) Parameter {
	return Parameter{
		Name:        "http-path",
		Prompt:      "HTTP path",
		Default:     def,
		AddDefault:  addDef,
		Pattern:     routePattern,
		PatternHelp: `a route starts with "/" and has no spaces, e.g. "/..." or "/api/..."`,
	}
}

// builtins are Wisp's templates, in the order `wisp new --list` shows them.
var builtins = []*Template{
	{
		ID:          "http-go",
		Description: "HTTP request handler using standard Go and the Wisp Go SDK (wasi:http, net/http)",
		Tags:        []string{"http", "go"},
		Parameters:  []Parameter{descriptionParam, httpPathParam("/...", "/{{project-name | kebab_case}}/...")},
		dir:         "builtin/http-go",
		goSDK:       true,
	},
	{
		ID:          "http-c",
		Description: "HTTP request handler using C and wasi-libc (WAGI)",
		Tags:        []string{"http", "c"},
		Parameters:  []Parameter{descriptionParam, httpPathParam("/...", "/{{project-name | kebab_case}}/...")},
		dir:         "builtin/http-c",
	},
	{
		ID:          "http-rust",
		Description: "HTTP request handler using Rust's standard library and rustc (WAGI)",
		Tags:        []string{"http", "rust"},
		Parameters:  []Parameter{descriptionParam, httpPathParam("/...", "/{{project-name | kebab_case}}/...")},
		dir:         "builtin/http-rust",
	},
	{
		ID:          "static-fileserver",
		Description: "Serves static files from an asset directory (Wisp's Go file server)",
		Tags:        []string{"http", "file", "static", "asset"},
		Parameters:  []Parameter{descriptionParam, httpPathParam("/...", "/static/...")},
		dir:         "builtin/static-fileserver",
		verbatim:    mustSub(guests.FileServer, "fileserver"),
	},
	{
		ID:          "http-go-wagi",
		Description: "HTTP request handler using standard Go (WAGI, net/http/cgi)",
		Tags:        []string{"http", "go", "wagi"},
		Parameters:  []Parameter{descriptionParam, httpPathParam("/...", "/{{project-name | kebab_case}}/...")},
		dir:         "builtin/http-go-wagi",
	},
	{
		ID:          "redis-go",
		Description: "Redis message handler using standard Go and the Wisp Go SDK",
		Tags:        []string{"redis", "go"},
		Parameters: []Parameter{
			descriptionParam,
			{
				Name:        "redis-address",
				Prompt:      "Redis address",
				Default:     "redis://localhost:6379",
				Pattern:     regexp.MustCompile(`^rediss?://[^\s"\\]+$`),
				PatternHelp: `a redis:// or rediss:// URL, e.g. "redis://localhost:6379"`,
			},
			{
				Name:        "redis-channel",
				Prompt:      "Redis channel",
				Default:     "messages",
				Pattern:     regexp.MustCompile(`^[^\s"\\{}]+$`),
				PatternHelp: `a channel name without spaces, quotes or braces`,
			},
		},
		dir:   "builtin/redis-go",
		goSDK: true,
	},
	{
		ID:          "mqtt-go",
		Description: "MQTT message handler using standard Go and the Wisp Go SDK",
		Tags:        []string{"mqtt", "go"},
		// As the spin-trigger-mqtt plugin's mqtt-rust template. The broker
		// settings are the application's ([application.trigger.mqtt]), so
		// `wisp add` asks only for the topic and QoS.
		Parameters: []Parameter{
			descriptionParam,
			{
				Name:        "mqtt-address",
				Prompt:      "MQTT broker address",
				Default:     "mqtt://localhost:1883",
				NewOnly:     true,
				Pattern:     regexp.MustCompile(`^(mqtts?|tcp|ssl|tls|wss?)://[^\s"\\]+$`),
				PatternHelp: `a broker URL such as "mqtt://localhost:1883" (mqtt, mqtts, tcp, ssl, tls, ws or wss)`,
			},
			{Name: "mqtt-username", Prompt: "MQTT username", NewOnly: true, Pattern: tomlStringPattern, PatternHelp: tomlStringHelp},
			{Name: "mqtt-password", Prompt: "MQTT password", NewOnly: true, Pattern: tomlStringPattern, PatternHelp: tomlStringHelp},
			{
				Name:        "mqtt-keep-alive-interval",
				Prompt:      "MQTT keep-alive interval (seconds, 0-65535)",
				Default:     "30",
				NewOnly:     true,
				Pattern:     regexp.MustCompile(`^(6553[0-5]|655[0-2]\d|65[0-4]\d{2}|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3}|0)$`),
				PatternHelp: `a number of seconds from 0 to 65535`,
			},
			{
				Name:        "mqtt-topic",
				Prompt:      "MQTT topic (filter)",
				Default:     "messages",
				Pattern:     regexp.MustCompile(`^[^\s"\\{}]+$`),
				PatternHelp: `a topic or topic filter without spaces, quotes or braces, e.g. "sensors/+/temperature"`,
			},
			{
				Name:        "mqtt-qos",
				Prompt:      "MQTT QoS (0, 1 or 2)",
				Default:     "1",
				Pattern:     regexp.MustCompile(`^[0-2]$`),
				PatternHelp: `0, 1 or 2`,
			},
		},
		dir:   "builtin/mqtt-go",
		goSDK: true,
	},
	{
		ID:          "cron-go",
		Description: "Cron event handler using standard Go and the Wisp Go SDK",
		Tags:        []string{"cron", "go"},
		Parameters: []Parameter{
			descriptionParam,
			{
				Name:    "cron-expression",
				Prompt:  "Cron expression (seconds first)",
				Default: "1/2 * * * * *",
				// Six fields (an optional seventh, the year) or a
				// descriptor; the manifest check says more if it is wrong.
				Pattern:     regexp.MustCompile(`^(@[a-z]+( [0-9a-z.]+)?|[^\s"\\{}]+( [^\s"\\{}]+){5,6})$`),
				PatternHelp: `six fields, seconds first ("0 */5 * * * *": every five minutes), or a descriptor such as "@hourly" or "@every 1m30s"`,
			},
		},
		dir:   "builtin/cron-go",
		goSDK: true,
	},
}

// tomlStringPattern accepts values that fit in a TOML basic string as is.
var (
	tomlStringPattern = regexp.MustCompile(`^[^"\\\x00-\x1f]*$`)
	tomlStringHelp    = `one line without '"' or '\'`
)

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// List returns every template, in display order.
func List() []*Template { return slices.Clone(builtins) }

// IDs returns the ids of every template.
func IDs() []string {
	ids := make([]string, len(builtins))
	for i, t := range builtins {
		ids[i] = t.ID
	}
	return ids
}

// Lookup finds a template by id.
func Lookup(id string) (*Template, bool) {
	for _, t := range builtins {
		if t.ID == id {
			return t, true
		}
	}
	return nil, false
}

// namePattern keeps names safe to put into file names, TOML strings and
// source code: a letter, then letters, digits, '-' and '_'.
var namePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// ValidateName checks an app or component name given to `wisp new`/`wisp add`.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("invalid name %q: use a letter followed by letters, digits, '-' or '_'", name)
	}
	return nil
}

// ResolveValues checks the values given for t's parameters in mode and fills
// in defaults for the missing ones. vars are the built-in variables
// (project-name, ...) that a default may refer to. Unknown names are errors.
func (t *Template) ResolveValues(mode Mode, given map[string]string, vars map[string]string) (map[string]string, error) {
	params := t.ParametersFor(mode)
	out := map[string]string{}
	for name := range given {
		if !slices.ContainsFunc(params, func(p Parameter) bool { return p.Name == name }) {
			return nil, fmt.Errorf("template %s has no parameter %q (parameters: %s)", t.ID, name, paramNames(params))
		}
	}
	for _, p := range params {
		v, ok := given[p.Name]
		if !ok {
			d, err := t.Default(p, vars)
			if err != nil {
				return nil, err
			}
			v = d
		}
		if err := p.Validate(v); err != nil {
			return nil, err
		}
		out[p.Name] = v
	}
	return out, nil
}

// Default renders p's default with the built-in variables.
func (t *Template) Default(p Parameter, vars map[string]string) (string, error) {
	d, err := Render(p.Default, vars)
	if err != nil {
		return "", fmt.Errorf("template %s: default of %s: %w", t.ID, p.Name, err)
	}
	return d, nil
}

func paramNames(ps []Parameter) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Package manifest reads Spin's application manifest (spin.toml, manifest
// version 2) strictly: unknown fields are errors that name file:line:column.
//
// The types mirror the TOML document. Union-shaped fields of the TOML
// (a string or a table, a string or a list) are normalised into one Go shape
// here so that later stages never see the TOML's variety.
package manifest

// Manifest is a parsed spin.toml (version 2).
type Manifest struct {
	// Path is the file the manifest was read from ("" when parsed from bytes).
	Path string

	SpinManifestVersion int
	Application         Application
	// Variables are the application variables, keyed by lower_snake name.
	Variables map[string]Variable
	// Triggers holds every [[trigger.<type>]] entry, in file order.
	Triggers []Trigger
	// Components are keyed by kebab-case id. Inline trigger components are
	// hoisted here under a generated id (see Trigger.Component).
	Components map[string]*Component
}

// Application is the [application] table.
type Application struct {
	Name        string
	Version     string
	Description string
	Authors     []string
	Targets     []string
	// TriggerConfig is [application.trigger.<type>] (for example redis.address),
	// kept as decoded TOML values for the trigger that owns it.
	TriggerConfig map[string]map[string]any
	// Tool is [application.tool.<name>], free-form for external tools.
	Tool map[string]map[string]any
}

// Variable is one entry of [variables].
type Variable struct {
	Default     *string
	Required    bool
	Secret      bool
	Description string
}

// Trigger is one [[trigger.<type>]] entry.
type Trigger struct {
	// Type is the <type> of [[trigger.<type>]]: "http", "redis", "mqtt", "cron", ...
	Type string
	// ID is the trigger's id; when the manifest gives none, one is generated
	// as Spin does (normalize.rs), so that ids agree with Spin's:
	// "<component>-<type>-trigger" if free, else "<type>-trigger<n>"
	// (n counting from 1 per type, skipping taken ids).
	ID string
	// Component is the id of the component the trigger invokes ("" only for
	// an HTTP trigger with a static_response, or a plugin trigger that uses
	// `components`). An inline component table is hoisted into
	// Manifest.Components under the id "<trigger id>-component" (or
	// "inline-component<n>" when that is taken, not kebab-case, or the
	// trigger has several components) and referenced here.
	Component string
	// HTTP is set for Type == "http", Redis for "redis", MQTT for "mqtt"
	// and Cron for "cron": the trigger types Wisp runs itself.
	HTTP  *HTTPTrigger
	Redis *RedisTrigger
	MQTT  *MQTTTrigger
	Cron  *CronTrigger
	// Config holds the fields other than id/component/components/
	// dependencies of every trigger type except http and redis, decoded:
	// plugin triggers interpret them, and for mqtt and cron they are the
	// same values MQTT and Cron hold, checked. A multi-component
	// `components` table (of any trigger type) is stored here under
	// "components" as a map[string][]string of component ids.
	Config map[string]any
	// Pos is where the [[trigger.<type>]] entry starts.
	Pos Position
}

// HTTPTrigger is the http-specific part of [[trigger.http]].
type HTTPTrigger struct {
	// Route is the route pattern ("/", "/users/:id", "/static/..."); empty when Private.
	Route string
	// Private is route = { private = true }: reachable only through local
	// service chaining, never from outside.
	Private        bool
	Executor       Executor
	StaticResponse *StaticResponse
}

// Executor is executor = { type = ..., argv = ..., entrypoint = ... }.
type Executor struct {
	// Type is "spin" (the default, also spelled "http") or "wagi".
	Type string
	// Argv and Entrypoint apply to "wagi"; defaults "${SCRIPT_NAME} ${ARGS}" and "_start".
	Argv       string
	Entrypoint string
}

// Executor types.
const (
	ExecutorSpin = "spin"
	ExecutorWAGI = "wagi"
)

// StaticResponse is static_response = { status_code, headers, body }.
type StaticResponse struct {
	StatusCode int // default 200
	Headers    map[string]string
	Body       string
}

// RedisTrigger is the redis-specific part of [[trigger.redis]].
type RedisTrigger struct {
	// Channel may hold {{ }} templates.
	Channel string
	// Address overrides [application.trigger.redis].address; may hold {{ }} templates.
	Address string
	// Concurrency is Wisp's `concurrency` key (Spin has none, and rejects
	// a manifest that uses it): how many messages of the channel the
	// component handles at once. 0 (absent) and 1 mean one at a time, in
	// the order they were published.
	Concurrency int
}

// MQTTTrigger is [[trigger.mqtt]] as the spin-trigger-mqtt plugin defines
// it. The broker is [application.trigger.mqtt] (address, username,
// password, keep_alive_interval).
type MQTTTrigger struct {
	// Topic is the topic filter to subscribe to ("sensors/+/temp"); may
	// hold {{ }} templates.
	Topic string
	// QoS is the subscription's quality of service, 0, 1 or 2 (the plugin
	// spells it as a string, "1"; an integer is accepted too). Default 0.
	QoS int
}

// CronTrigger is [[trigger.cron]] as the spin-trigger-cron plugin defines it.
type CronTrigger struct {
	// CronExpression has six fields, seconds first ("*/5 * * * * *"), and
	// an optional seventh, the year, which must be "*".
	CronExpression string
}

// Component is one [component.<id>] table.
type Component struct {
	ID     string
	Source Source
	// Description is free text.
	Description string
	// Variables maps component variable names to values that may hold
	// {{ app_variable }} templates.
	Variables   map[string]string
	Environment map[string]string
	Files       []FilesMount
	// ExcludeFiles are globs, relative to the app directory, removed from Files.
	ExcludeFiles         []string
	AllowedOutboundHosts []string
	KeyValueStores       []string
	SQLiteDatabases      []string
	AIModels             []string
	// Targets are environment names, or the url or path of { url } and
	// { path } references.
	Targets []string
	Build   *Build
	Tool    map[string]map[string]any
	// Dependencies are parsed so that the error can be precise, but Wisp does
	// not compose components yet: validation rejects a non-empty map.
	Dependencies                     map[string]any
	DependenciesInheritConfiguration *bool
	// Pos is where [component.<id>] starts.
	Pos Position
}

// Source is where a component's Wasm comes from: exactly one of Path, URL
// (with Digest), or Registry/Package/Version is set.
type Source struct {
	// Path is relative to the manifest's directory (or absolute).
	Path string
	// URL is a remote source; Digest is "sha256:<hex>".
	URL    string
	Digest string
	// Registry, Package and Version name a component in a package registry
	// (parsed; the loader answers "not supported yet").
	Registry string
	Package  string
	Version  string
}

// FilesMount is one entry of files: either a glob Pattern (relative to the
// app directory, mounted at the same relative path), or a Source directory or
// file mounted at Destination.
type FilesMount struct {
	Pattern     string
	Source      string
	Destination string
}

// Build is [component.<id>.build].
type Build struct {
	// Commands run in order; a single command string becomes one element.
	Commands []string
	// Workdir is relative to the manifest's directory.
	Workdir string
	Watch   []string
}

// Position is a location in the manifest file, 1-based.
type Position struct {
	Line, Column int
}

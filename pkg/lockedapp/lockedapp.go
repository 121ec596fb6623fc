// Package lockedapp defines the resolved application: the contract between
// the loader (which produces it from a manifest or an OCI artifact) and every
// runtime that consumes it (wisp up, the platform server, the node agent).
//
// A LockedApp is self-contained: every path in it is absolute, every glob has
// been expanded, every remote source has been fetched and verified. It
// serialises to JSON so that it can be stored and shipped as is.
package lockedapp

// Version is the LockedApp format version written by this package.
const Version = 1

// LockedApp is a fully resolved application.
type LockedApp struct {
	Version  int      `json:"wisp_lock_version"`
	Metadata Metadata `json:"metadata"`
	// Variables are the application variable declarations (not their values:
	// values come from providers at run time, so secrets never land here).
	Variables  map[string]Variable `json:"variables,omitempty"`
	Triggers   []Trigger           `json:"triggers"`
	Components []Component         `json:"components"`
}

// Metadata describes the application.
type Metadata struct {
	Name        string   `json:"name"`
	Version     string   `json:"version,omitempty"`
	Description string   `json:"description,omitempty"`
	Authors     []string `json:"authors,omitempty"`
	// Origin is where the app was loaded from ("file:///path/spin.toml", "oci://...").
	Origin string `json:"origin,omitempty"`
	// TriggerConfig is [application.trigger.<type>] by trigger type.
	TriggerConfig map[string]map[string]any `json:"trigger_config,omitempty"`
}

// Variable is an application variable declaration.
type Variable struct {
	Default     *string `json:"default,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Secret      bool    `json:"secret,omitempty"`
	Description string  `json:"description,omitempty"`
}

// Trigger binds an event source to a component.
type Trigger struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Component is "" only for an HTTP static response.
	Component string       `json:"component,omitempty"`
	HTTP      *HTTPTrigger `json:"http,omitempty"`
	// Config is the type-specific configuration for non-HTTP triggers.
	Config map[string]any `json:"config,omitempty"`
}

// HTTPTrigger is the configuration of an HTTP trigger.
type HTTPTrigger struct {
	Route          string          `json:"route,omitempty"`
	Private        bool            `json:"private,omitempty"`
	Executor       Executor        `json:"executor"`
	StaticResponse *StaticResponse `json:"static_response,omitempty"`
}

// Executor says how a component is invoked for HTTP requests.
type Executor struct {
	// Type is "spin" or "wagi" (never empty).
	Type       string `json:"type"`
	Argv       string `json:"argv,omitempty"`
	Entrypoint string `json:"entrypoint,omitempty"`
}

// StaticResponse is a response served without running any component.
type StaticResponse struct {
	StatusCode int               `json:"status_code"`
	Headers    map[string]string `json:"headers,omitempty"`
	Body       string            `json:"body,omitempty"`
}

// Component is a resolved component.
type Component struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Source      Source `json:"source"`
	// Files are the individual files visible to the guest, read-only.
	Files []File `json:"files,omitempty"`
	// Environment is passed to the guest as its environment variables.
	Environment map[string]string `json:"environment,omitempty"`
	// Variables are component variables; values may hold {{ app_variable }} templates.
	Variables            map[string]string `json:"variables,omitempty"`
	AllowedOutboundHosts []string          `json:"allowed_outbound_hosts,omitempty"`
	KeyValueStores       []string          `json:"key_value_stores,omitempty"`
	SQLiteDatabases      []string          `json:"sqlite_databases,omitempty"`
	AIModels             []string          `json:"ai_models,omitempty"`
}

// Source is the component's Wasm binary on local disk.
type Source struct {
	// Path is absolute.
	Path string `json:"path"`
	// Digest is "sha256:<hex>" of the file's content.
	Digest string `json:"digest"`
}

// File maps one host file into the guest's file system.
type File struct {
	// Source is the absolute host path (already checked to lie inside the app
	// directory, symlinks resolved).
	Source string `json:"source"`
	// Destination is the absolute, clean, slash-separated guest path.
	Destination string `json:"destination"`
}

// Component returns the component with the given id, or nil.
func (a *LockedApp) Component(id string) *Component {
	for i := range a.Components {
		if a.Components[i].ID == id {
			return &a.Components[i]
		}
	}
	return nil
}

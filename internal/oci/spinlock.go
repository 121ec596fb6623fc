package oci

// Spin's locked application, as JSON. An artifact's locked-app layer holds
// Spin's LockedApp (crates/locked-app/src/locked.rs), not Wisp's: that is
// what lets `spin up -f <ref>` run what `wisp registry push` pushed, and
// Wisp run what `spin registry push` pushed. These types mirror the fields
// Spin serialises; the conversions below are the only place that knows how
// Spin spells Wisp's lockedapp fields.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// spinApp is Spin's LockedApp.
type spinApp struct {
	// SpinLockVersion is 0 unless must_understand or host_requirements is
	// set, then 1 (Spin's serializer does the same).
	SpinLockVersion  int                     `json:"spin_lock_version"`
	MustUnderstand   []string                `json:"must_understand,omitempty"`
	Metadata         map[string]any          `json:"metadata,omitempty"`
	HostRequirements map[string]any          `json:"host_requirements,omitempty"`
	Variables        map[string]spinVariable `json:"variables,omitempty"`
	Triggers         []spinTrigger           `json:"triggers"`
	Components       []spinComponent         `json:"components"`
}

type spinVariable struct {
	Description *string `json:"description,omitempty"`
	// Default unset means the variable is required.
	Default *string `json:"default,omitempty"`
	Secret  bool    `json:"secret,omitempty"`
}

type spinTrigger struct {
	ID                  string                     `json:"id"`
	TriggerType         string                     `json:"trigger_type"`
	TriggerConfig       map[string]any             `json:"trigger_config"`
	TriggerDependencies map[string]json.RawMessage `json:"trigger_dependencies,omitempty"`
}

type spinComponent struct {
	ID                  string                     `json:"id"`
	Metadata            map[string]any             `json:"metadata,omitempty"`
	Source              spinSource                 `json:"source"`
	Env                 map[string]string          `json:"env,omitempty"`
	Files               []spinContentPath          `json:"files,omitempty"`
	Config              map[string]string          `json:"config,omitempty"`
	Dependencies        map[string]json.RawMessage `json:"dependencies,omitempty"`
	TriggerDependencies map[string]json.RawMessage `json:"trigger_dependencies,omitempty"`
	HostRequirements    map[string]any             `json:"host_requirements,omitempty"`
}

// spinContentRef is Spin's ContentRef: content given by URL, inline bytes
// or digest. Embedded structs flatten in encoding/json as serde's
// #[serde(flatten)] does in Spin.
type spinContentRef struct {
	Source string      `json:"source,omitempty"`
	Inline *inlineData `json:"inline,omitempty"`
	Digest string      `json:"digest,omitempty"`
}

type spinSource struct {
	ContentType string `json:"content_type"`
	spinContentRef
}

type spinContentPath struct {
	spinContentRef
	Path string `json:"path"`
}

// inlineData is base64 without padding, as spin_serde::base64 writes it.
// Padded input is accepted too.
type inlineData []byte

func (d inlineData) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64.RawStdEncoding.EncodeToString(d))
}

func (d *inlineData) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("inline content: %w", err)
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return fmt.Errorf("inline content is not base64: %w", err)
	}
	*d = raw
	return nil
}

// Keys Spin understands in host_requirements / must_understand.
const (
	hostReqServiceChaining = "local_service_chaining"
	hostReqRequired        = "required"
	hostReqOptional        = "optional"

	mustUnderstandHostReqs          = "host_requirements"
	mustUnderstandComponentHostReqs = "component_host_requirements"

	// wasmContentType is what Spin's loader puts in every component source.
	wasmContentType = "application/wasm"
)

// Component metadata keys (crates/loader/src/local.rs load_component).
const (
	metaDescription   = "description"
	metaOutboundHosts = "allowed_outbound_hosts"
	metaKeyValue      = "key_value_stores"
	metaDatabases     = "databases"
	metaAIModels      = "ai_models"
)

// ---- Wisp → Spin ----

// toSpinApp converts app into Spin's form. Content references are left
// empty: the pusher fills them in with digests (and inline bytes) once it
// knows each layer.
func toSpinApp(app *lockedapp.LockedApp) (*spinApp, error) {
	s := &spinApp{
		Metadata:   spinMetadata(app),
		Triggers:   make([]spinTrigger, 0, len(app.Triggers)),
		Components: make([]spinComponent, 0, len(app.Components)),
	}
	if len(app.Variables) > 0 {
		s.Variables = map[string]spinVariable{}
		for name, v := range app.Variables {
			sv := spinVariable{Default: v.Default, Secret: v.Secret}
			if v.Description != "" {
				d := v.Description
				sv.Description = &d
			}
			s.Variables[name] = sv
		}
	}
	for _, t := range app.Triggers {
		st, err := toSpinTrigger(t)
		if err != nil {
			return nil, err
		}
		s.Triggers = append(s.Triggers, st)
	}
	for _, c := range app.Components {
		sc := spinComponent{
			ID:       c.ID,
			Metadata: map[string]any{},
			Source:   spinSource{ContentType: wasmContentType},
			Env:      maps.Clone(c.Environment),
			Config:   maps.Clone(c.Variables),
		}
		putString(sc.Metadata, metaDescription, c.Description)
		putStrings(sc.Metadata, metaOutboundHosts, c.AllowedOutboundHosts)
		putStrings(sc.Metadata, metaKeyValue, c.KeyValueStores)
		putStrings(sc.Metadata, metaDatabases, c.SQLiteDatabases)
		putStrings(sc.Metadata, metaAIModels, c.AIModels)
		if slices.ContainsFunc(c.AllowedOutboundHosts, isServiceChainingHost) {
			sc.HostRequirements = map[string]any{hostReqServiceChaining: hostReqRequired}
		}
		s.Components = append(s.Components, sc)
	}
	if slices.ContainsFunc(s.Components, func(c spinComponent) bool { return len(c.HostRequirements) > 0 }) {
		s.MustUnderstand = append(s.MustUnderstand, mustUnderstandComponentHostReqs)
	}
	if len(s.MustUnderstand) > 0 {
		s.SpinLockVersion = 1
	}
	return s, nil
}

// spinMetadata is Spin's locked_metadata: name, version, description,
// authors, the global trigger settings under "triggers", and, for an app
// with one trigger type, the same settings plus "type" under "trigger" (the
// form older Spin hosts read). "origin" is never pushed: it names the
// pusher's disk.
func spinMetadata(app *lockedapp.LockedApp) map[string]any {
	md := map[string]any{}
	putString(md, "name", app.Metadata.Name)
	putString(md, "version", app.Metadata.Version)
	putString(md, "description", app.Metadata.Description)
	putStrings(md, "authors", app.Metadata.Authors)
	triggers := map[string]any{}
	for typ, cfg := range app.Metadata.TriggerConfig {
		triggers[typ] = maps.Clone(cfg)
	}
	md["triggers"] = triggers

	var types []string
	for _, t := range app.Triggers {
		if !slices.Contains(types, t.Type) {
			types = append(types, t.Type)
		}
	}
	if len(types) == 1 {
		single := map[string]any{}
		maps.Copy(single, app.Metadata.TriggerConfig[types[0]])
		single["type"] = types[0]
		md["trigger"] = single
	}
	return md
}

func toSpinTrigger(t lockedapp.Trigger) (spinTrigger, error) {
	cfg := map[string]any{}
	if t.Component != "" {
		cfg["component"] = t.Component
	}
	if h := t.HTTP; h != nil {
		if h.Private {
			cfg["route"] = map[string]any{"private": true}
		} else {
			cfg["route"] = h.Route
		}
		switch h.Executor.Type {
		case "", "spin":
			// Spin's default; leaving it out keeps the config as the author wrote it.
		case "wagi":
			cfg["executor"] = map[string]any{"type": "wagi", "argv": h.Executor.Argv, "entrypoint": h.Executor.Entrypoint}
		default:
			return spinTrigger{}, fmt.Errorf("trigger %q: unknown executor type %q", t.ID, h.Executor.Type)
		}
		if sr := h.StaticResponse; sr != nil {
			resp := map[string]any{"status_code": sr.StatusCode}
			if len(sr.Headers) > 0 {
				resp["headers"] = maps.Clone(sr.Headers)
			}
			if sr.Body != "" {
				resp["body"] = sr.Body
			}
			cfg["static_response"] = resp
		}
	} else {
		for k, v := range t.Config {
			if k == "component" {
				return spinTrigger{}, fmt.Errorf("trigger %q: config key \"component\" clashes with the trigger's component", t.ID)
			}
			cfg[k] = v
		}
	}
	return spinTrigger{ID: t.ID, TriggerType: t.Type, TriggerConfig: cfg}, nil
}

// isServiceChainingHost reports whether an allowed_outbound_hosts entry
// names *.spin.internal, for which Spin records a host requirement.
func isServiceChainingHost(pattern string) bool {
	host := pattern
	if _, rest, ok := strings.Cut(host, "://"); ok {
		host = rest
	}
	if i := strings.LastIndex(host, ":"); i >= 0 {
		host = host[:i]
	}
	return strings.HasSuffix(host, ".spin.internal")
}

func putString(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func putStrings(m map[string]any, k string, v []string) {
	if len(v) > 0 {
		m[k] = slices.Clone(v)
	}
}

// ---- Spin → Wisp ----

// contentResolver turns a verified content reference into a local path.
type contentResolver func(what string, ref spinContentRef) (path, digest string, err error)

// fromSpinApp converts a pulled Spin locked app into Wisp's form. resolve
// maps every content reference to a verified file in the cache. Anything
// Wisp cannot run faithfully is an error, never silently dropped.
func fromSpinApp(s *spinApp, resolve contentResolver) (*lockedapp.LockedApp, error) {
	if s.SpinLockVersion != 0 && s.SpinLockVersion != 1 {
		return nil, fmt.Errorf("locked app: spin_lock_version %d is not supported (want 0 or 1)", s.SpinLockVersion)
	}
	for _, mu := range s.MustUnderstand {
		if mu != mustUnderstandHostReqs && mu != mustUnderstandComponentHostReqs {
			return nil, fmt.Errorf("locked app: must_understand %q is not supported by Wisp", mu)
		}
	}
	if err := checkHostRequirements("application", s.HostRequirements); err != nil {
		return nil, err
	}

	app := &lockedapp.LockedApp{Version: lockedapp.Version}
	md, err := fromSpinMetadata(s.Metadata)
	if err != nil {
		return nil, err
	}
	app.Metadata = md

	if len(s.Variables) > 0 {
		app.Variables = map[string]lockedapp.Variable{}
		for name, v := range s.Variables {
			if !lowerSnake.MatchString(name) {
				return nil, fmt.Errorf("locked app: variable name %q is not lower snake_case", name)
			}
			lv := lockedapp.Variable{Default: v.Default, Required: v.Default == nil, Secret: v.Secret}
			if v.Description != nil {
				lv.Description = *v.Description
			}
			app.Variables[name] = lv
		}
	}

	for _, st := range s.Triggers {
		t, err := fromSpinTrigger(st)
		if err != nil {
			return nil, err
		}
		app.Triggers = append(app.Triggers, t)
	}
	for _, sc := range s.Components {
		c, err := fromSpinComponent(sc, resolve)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", sc.ID, err)
		}
		app.Components = append(app.Components, c)
	}
	for _, t := range app.Triggers {
		if t.Component != "" && app.Component(t.Component) == nil {
			return nil, fmt.Errorf("trigger %q: component %q is not in the app", t.ID, t.Component)
		}
	}
	return app, nil
}

func checkHostRequirements(where string, reqs map[string]any) error {
	for k, v := range reqs {
		if v == hostReqOptional {
			continue
		}
		switch k {
		case hostReqServiceChaining:
			// Wisp serves *.spin.internal service chaining.
		default:
			return fmt.Errorf("%s requires host feature %q, which Wisp does not support", where, k)
		}
	}
	return nil
}

func fromSpinMetadata(md map[string]any) (lockedapp.Metadata, error) {
	var out lockedapp.Metadata
	var err error
	str := func(k string) string {
		v, ok := md[k]
		if !ok || err != nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			err = fmt.Errorf("locked app: metadata %q is not a string", k)
		}
		return s
	}
	out.Name = str("name")
	out.Version = str("version")
	out.Description = str("description")
	if err != nil {
		return out, err
	}
	if v, ok := md["authors"]; ok {
		list, ok := stringList(v)
		if !ok {
			return out, fmt.Errorf("locked app: metadata \"authors\" is not a list of strings")
		}
		out.Authors = list
	}
	if v, ok := md["triggers"]; ok && v != nil {
		all, ok := v.(map[string]any)
		if !ok {
			return out, fmt.Errorf("locked app: metadata \"triggers\" is not a table")
		}
		for typ, cfg := range all {
			m, ok := cfg.(map[string]any)
			if !ok {
				return out, fmt.Errorf("locked app: metadata \"triggers\".%q is not a table", typ)
			}
			if len(m) == 0 {
				continue
			}
			if out.TriggerConfig == nil {
				out.TriggerConfig = map[string]map[string]any{}
			}
			out.TriggerConfig[typ] = m
		}
	}
	return out, nil
}

func fromSpinTrigger(st spinTrigger) (lockedapp.Trigger, error) {
	where := fmt.Sprintf("trigger %q (%s)", st.ID, st.TriggerType)
	if st.ID == "" || strings.ContainsAny(st.ID, "/\\\x00") || !kebabID.MatchString(strings.ReplaceAll(st.TriggerType, "_", "-")) {
		return lockedapp.Trigger{}, fmt.Errorf("%s: invalid trigger id or type", where)
	}
	if len(st.TriggerDependencies) > 0 {
		return lockedapp.Trigger{}, fmt.Errorf("%s: trigger dependencies (middleware) are not supported by Wisp", where)
	}
	t := lockedapp.Trigger{ID: st.ID, Type: st.TriggerType}
	cfg := maps.Clone(st.TriggerConfig)
	if v, ok := cfg["component"]; ok {
		id, ok := v.(string)
		if !ok {
			return t, fmt.Errorf("%s: component is not a string (multi-component triggers are not supported)", where)
		}
		t.Component = id
		delete(cfg, "component")
	}
	if st.TriggerType != "http" {
		if len(cfg) > 0 {
			t.Config = cfg
		}
		if t.Component == "" {
			return t, fmt.Errorf("%s: no component", where)
		}
		return t, nil
	}

	h := &lockedapp.HTTPTrigger{Executor: lockedapp.Executor{Type: "spin"}}
	for k, v := range cfg {
		switch k {
		case "route":
			switch r := v.(type) {
			case string:
				h.Route = r
			case map[string]any:
				if len(r) != 1 || r["private"] != true {
					return t, fmt.Errorf("%s: route must be a string or { private = true }", where)
				}
				h.Private = true
			default:
				return t, fmt.Errorf("%s: route must be a string or { private = true }", where)
			}
		case "executor":
			e, err := fromSpinExecutor(v)
			if err != nil {
				return t, fmt.Errorf("%s: %w", where, err)
			}
			h.Executor = e
		case "static_response":
			sr, err := fromSpinStaticResponse(v)
			if err != nil {
				return t, fmt.Errorf("%s: %w", where, err)
			}
			h.StaticResponse = sr
		default:
			return t, fmt.Errorf("%s: unknown http trigger field %q", where, k)
		}
	}
	if _, ok := cfg["route"]; !ok {
		return t, fmt.Errorf("%s: no route", where)
	}
	if (t.Component == "") == (h.StaticResponse == nil) {
		return t, fmt.Errorf("%s: needs exactly one of component and static_response", where)
	}
	t.HTTP = h
	return t, nil
}

func fromSpinExecutor(v any) (lockedapp.Executor, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return lockedapp.Executor{}, fmt.Errorf("executor is not a table")
	}
	typ, _ := m["type"].(string)
	switch typ {
	case "spin", "http":
		if len(m) != 1 {
			return lockedapp.Executor{}, fmt.Errorf("executor %q takes no options", typ)
		}
		return lockedapp.Executor{Type: "spin"}, nil
	case "wagi":
		e := lockedapp.Executor{Type: "wagi", Argv: "${SCRIPT_NAME} ${ARGS}", Entrypoint: "_start"}
		for k, val := range m {
			s, ok := val.(string)
			if !ok {
				return e, fmt.Errorf("executor field %q is not a string", k)
			}
			switch k {
			case "type":
			case "argv":
				e.Argv = s
			case "entrypoint":
				e.Entrypoint = s
			default:
				return e, fmt.Errorf("unknown wagi executor field %q", k)
			}
		}
		return e, nil
	default:
		return lockedapp.Executor{}, fmt.Errorf("unknown executor type %q", typ)
	}
}

func fromSpinStaticResponse(v any) (*lockedapp.StaticResponse, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("static_response is not a table")
	}
	sr := &lockedapp.StaticResponse{StatusCode: 200}
	for k, val := range m {
		switch k {
		case "status_code":
			n, ok := val.(float64)
			if !ok || n != float64(int(n)) || n < 100 || n > 999 {
				return nil, fmt.Errorf("static_response.status_code must be an HTTP status")
			}
			sr.StatusCode = int(n)
		case "headers":
			hm, ok := val.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("static_response.headers is not a table")
			}
			sr.Headers = map[string]string{}
			for hk, hv := range hm {
				s, ok := hv.(string)
				if !ok {
					return nil, fmt.Errorf("static_response header %q is not a string", hk)
				}
				sr.Headers[hk] = s
			}
		case "body":
			s, ok := val.(string)
			if !ok {
				return nil, fmt.Errorf("static_response.body is not a string")
			}
			sr.Body = s
		default:
			return nil, fmt.Errorf("unknown static_response field %q", k)
		}
	}
	return sr, nil
}

// Identifier shapes Spin's manifest enforces (crates/serde/src/id.rs).
// A pulled app comes from a registry, not from Spin's parser, so they are
// checked again: component ids and labels end up in file names.
var (
	kebabID    = regexp.MustCompile(`^(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*)(?:-(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*))*$`)
	snakeID    = regexp.MustCompile(`^(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*)(?:_(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*))*$`)
	lowerSnake = regexp.MustCompile(`^[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*$`)
)

func checkLabels(what string, labels []string) error {
	for _, l := range labels {
		if !kebabID.MatchString(l) && !snakeID.MatchString(l) {
			return fmt.Errorf("%s label %q is not kebab-case or snake_case", what, l)
		}
	}
	return nil
}

func fromSpinComponent(sc spinComponent, resolve contentResolver) (lockedapp.Component, error) {
	if !kebabID.MatchString(sc.ID) {
		return lockedapp.Component{}, fmt.Errorf("component id %q is not kebab-case", sc.ID)
	}
	c := lockedapp.Component{
		ID:          sc.ID,
		Environment: sc.Env,
		Variables:   sc.Config,
	}
	if len(sc.Dependencies) > 0 {
		return c, fmt.Errorf("component dependencies are not supported by Wisp: push the app composed (spin registry push composes by default)")
	}
	if len(sc.TriggerDependencies) > 0 {
		return c, fmt.Errorf("trigger dependencies (middleware) are not supported by Wisp")
	}
	if err := checkHostRequirements("component", sc.HostRequirements); err != nil {
		return c, err
	}
	for k, v := range sc.Metadata {
		var ok bool
		switch k {
		case metaDescription:
			c.Description, ok = v.(string)
		case metaOutboundHosts:
			c.AllowedOutboundHosts, ok = stringList(v)
		case metaKeyValue:
			c.KeyValueStores, ok = stringList(v)
		case metaDatabases:
			c.SQLiteDatabases, ok = stringList(v)
		case metaAIModels:
			c.AIModels, ok = stringList(v)
		default:
			// Other metadata (e.g. "build") is informational.
			ok = true
		}
		if !ok {
			return c, fmt.Errorf("metadata %q has the wrong type", k)
		}
	}

	if err := checkLabels("key-value store", c.KeyValueStores); err != nil {
		return c, err
	}
	if err := checkLabels("SQLite database", c.SQLiteDatabases); err != nil {
		return c, err
	}
	if sc.Source.ContentType != "" && sc.Source.ContentType != wasmContentType {
		return c, fmt.Errorf("source content type %q is not %q", sc.Source.ContentType, wasmContentType)
	}
	path, digest, err := resolve("source", sc.Source.spinContentRef)
	if err != nil {
		return c, err
	}
	c.Source = lockedapp.Source{Path: path, Digest: digest}

	seen := map[string]bool{}
	for _, f := range sc.Files {
		dest, err := guestPath(f.Path)
		if err != nil {
			return c, err
		}
		if seen[dest] {
			return c, fmt.Errorf("file %q is listed twice", dest)
		}
		seen[dest] = true
		path, _, err := resolve(fmt.Sprintf("file %q", dest), f.spinContentRef)
		if err != nil {
			return c, err
		}
		c.Files = append(c.Files, lockedapp.File{Source: path, Destination: dest})
	}
	slices.SortFunc(c.Files, func(a, b lockedapp.File) int { return strings.Compare(a.Destination, b.Destination) })
	for _, f := range c.Files {
		for dir := parentDir(f.Destination); dir != "/"; dir = parentDir(dir) {
			if seen[dir] {
				return c, fmt.Errorf("%q is both a file and the parent directory of %q", dir, f.Destination)
			}
		}
	}
	return c, nil
}

// guestPath turns a pulled file path (relative to the component's root,
// slash-separated, as Spin's pusher writes it) into an absolute guest path.
// Like Spin's is_safe_to_join, only plain names are allowed: no "..", ".",
// empty segments, or absolute paths that could escape the mount.
func guestPath(p string) (string, error) {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return "", fmt.Errorf("file path %q is not a relative slash-separated path", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsRune(seg, 0) {
			return "", fmt.Errorf("file path %q is not a plain relative path", p)
		}
	}
	return "/" + p, nil
}

func parentDir(p string) string {
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

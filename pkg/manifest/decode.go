package manifest

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The decoder turns the generic TOML document (as go-toml decodes it) into
// a Manifest, checking every key and every type against Spin's v2 schema.
// It reports problems and keeps going, so that one run shows them all.
// Rules that relate several parts of the manifest live in validate.go.

type decoder struct {
	reporter
	ps *positions
	// Where things came from, for validate.go to point at.
	componentPaths map[*Component]tomlPath
	triggers       []*triggerDraft
}

// triggerDraft is a trigger before normalisation: its component may still
// be an inline table, and its generated id is not assigned yet.
type triggerDraft struct {
	t    *Trigger
	path tomlPath
	// component is the trigger's component field (nil when absent);
	// components is the multi-component `components` table, in file order.
	component  *componentSpec
	components []namedSpecs
}

// componentSpec is a component reference or an inline component table.
type componentSpec struct {
	ref    string
	inline *Component
	path   tomlPath
}

type namedSpecs struct {
	name  string
	specs []*componentSpec
}

func (d *decoder) keyPos(p tomlPath) Position   { return d.ps.keyPos(p) }
func (d *decoder) valuePos(p tomlPath) Position { return d.ps.valuePos(p) }

// manifest decodes the whole document. A wrong or missing manifest version
// makes everything else noise, so it stops there (ok == false).
func (d *decoder) manifest(doc map[string]any) (m *Manifest, ok bool) {
	var root tomlPath
	if !d.version(doc) {
		return nil, false
	}
	m = &Manifest{SpinManifestVersion: 2, Components: map[string]*Component{}}
	d.fields(root, doc, "the top level of the manifest",
		"spin_manifest_version", "application", "variables", "trigger", "component")

	if v, ok := doc["application"]; ok {
		m.Application = d.application(root.key("application"), v)
	} else {
		d.at(Position{Line: 1, Column: 1}, "missing [application] table")
	}
	if v, ok := doc["variables"]; ok {
		m.Variables = d.variables(root.key("variables"), v)
	}
	if v, ok := doc["trigger"]; ok {
		d.triggerTypes(root.key("trigger"), v)
	}
	if v, ok := doc["component"]; ok {
		p := root.key("component")
		if t, ok := d.table(p, v, "component"); ok {
			for _, id := range sortedKeys(t) {
				cp := p.key(id)
				if err := checkKebabID(id); err != nil {
					d.at(d.keyPos(cp), "invalid component id %q: %v", id, err)
				}
				where := fmt.Sprintf("[component.%s]", id)
				if c := d.component(cp, t[id], where); c != nil {
					c.ID = id
					m.Components[id] = c
				}
			}
		}
	}
	return m, true
}

// version checks spin_manifest_version. Spin's version probe also reads the
// old key spin_version.
func (d *decoder) version(doc map[string]any) bool {
	var root tomlPath
	for _, key := range []string{"spin_version", "spin_manifest_version"} {
		v, ok := doc[key]
		if !ok {
			continue
		}
		p := root.key(key)
		switch v {
		case "1", int64(1):
			d.at(d.valuePos(p), "manifest version 1 is not supported: convert it to version 2 "+
				"(spin_manifest_version = 2, [[trigger.<type>]] and [component.<id>] tables; "+
				"see https://spinframework.dev/v3/manifest-reference)")
			return false
		case int64(2):
			if key == "spin_manifest_version" {
				return true
			}
		}
		d.at(d.valuePos(p), "unsupported manifest version %s: Wisp reads spin_manifest_version = 2", tomlText(v))
		return false
	}
	d.at(Position{Line: 1, Column: 1}, "missing spin_manifest_version: add `spin_manifest_version = 2` at the top of the manifest")
	return false
}

func (d *decoder) application(p tomlPath, v any) Application {
	var a Application
	t, ok := d.table(p, v, "application")
	if !ok {
		return a
	}
	d.fields(p, t, "[application]", "name", "version", "description", "authors", "targets", "trigger", "tool")
	if _, ok := t["name"]; !ok {
		d.at(d.valuePos(p), "missing name in [application]")
	}
	d.optString(p, t, "name", &a.Name)
	d.optString(p, t, "version", &a.Version)
	d.optString(p, t, "description", &a.Description)
	d.optStrings(p, t, "authors", &a.Authors)
	if v, ok := t["targets"]; ok {
		a.Targets = d.targets(p.key("targets"), v)
	}
	if v, ok := t["trigger"]; ok {
		a.TriggerConfig = d.appTriggerConfig(p.key("trigger"), v)
	}
	if v, ok := t["tool"]; ok {
		a.Tool = d.tables(p.key("tool"), v, "tool")
	}
	return a
}

// appTriggerConfig is [application.trigger.<type>]. It belongs to the
// trigger of that type, so it is free-form, except for the triggers Wisp
// implements: Spin's runtimes (and the mqtt plugin) reject unknown fields
// there too.
func (d *decoder) appTriggerConfig(p tomlPath, v any) map[string]map[string]any {
	cfg := d.tables(p, v, "application.trigger")
	for typ, t := range cfg {
		tp := p.key(typ)
		where := fmt.Sprintf("[application.trigger.%s]", typ)
		switch typ {
		case "redis":
			d.fields(tp, t, where, "address")
			var addr string
			d.optString(tp, t, "address", &addr)
		case "http":
			d.fields(tp, t, where, "base")
			var base string
			d.optString(tp, t, "base", &base)
		case "mqtt":
			// spin-trigger-mqtt's TriggerMetadata (deny_unknown_fields).
			d.fields(tp, t, where, "address", "username", "password", "keep_alive_interval")
			var s string
			d.optString(tp, t, "address", &s)
			d.optString(tp, t, "username", &s)
			d.optString(tp, t, "password", &s)
			if v, ok := t["keep_alive_interval"]; ok {
				if n, ok := intOrString(v); !ok || n < 0 || n > 65535 {
					d.at(d.valuePos(tp.key("keep_alive_interval")), `keep_alive_interval must be a number of seconds from 0 to 65535 (the plugin writes it as a string: keep_alive_interval = "30")`)
				}
			}
		}
	}
	return cfg
}

func (d *decoder) variables(p tomlPath, v any) map[string]Variable {
	t, ok := d.table(p, v, "variables")
	if !ok {
		return nil
	}
	vars := make(map[string]Variable, len(t))
	for _, name := range sortedKeys(t) {
		vp := p.key(name)
		if err := checkVariableName(name); err != nil {
			d.at(d.keyPos(vp), "invalid variable name %q: %v", name, err)
		}
		vt, ok := d.table(vp, t[name], fmt.Sprintf("variable %q", name))
		if !ok {
			continue
		}
		where := fmt.Sprintf("variable %q", name)
		d.fields(vp, vt, where, "default", "required", "secret", "description")
		var va Variable
		if _, ok := vt["default"]; ok {
			va.Default = new(string)
			d.optString(vp, vt, "default", va.Default)
		}
		d.optBool(vp, vt, "required", &va.Required)
		d.optBool(vp, vt, "secret", &va.Secret)
		d.optString(vp, vt, "description", &va.Description)
		// Spin's loader: a variable must be required XOR have a default.
		switch {
		case va.Required && va.Default != nil:
			d.at(d.keyPos(vp), "variable %q cannot be both required and have a default", name)
		case !va.Required && va.Default == nil:
			d.at(d.keyPos(vp), "variable %q must either be required (required = true) or have a default", name)
		}
		vars[name] = va
	}
	return vars
}

// triggerTypes is the `trigger` table: one array of tables per trigger type.
func (d *decoder) triggerTypes(p tomlPath, v any) {
	t, ok := d.table(p, v, "trigger")
	if !ok {
		return
	}
	for _, typ := range sortedKeysByPos(d, p, t) {
		tp := p.key(typ)
		list, ok := t[typ].([]any)
		if !ok {
			d.at(d.keyPos(tp), "trigger.%s must be an array of tables: write [[trigger.%s]]", typ, typ)
			continue
		}
		for i, e := range list {
			if dr := d.trigger(tp.index(i), typ, e); dr != nil {
				d.triggers = append(d.triggers, dr)
			}
		}
	}
}

func (d *decoder) trigger(p tomlPath, typ string, v any) *triggerDraft {
	where := fmt.Sprintf("[[trigger.%s]]", typ)
	t, ok := d.table(p, v, where+" entry")
	if !ok {
		return nil
	}
	dr := &triggerDraft{t: &Trigger{Type: typ, Pos: d.valuePos(p)}, path: p}
	d.optString(p, t, "id", &dr.t.ID)
	if cv, ok := t["component"]; ok {
		dr.component = d.componentSpec(p.key("component"), cv, where+" component")
	}
	if cv, ok := t["components"]; ok {
		dr.components = d.componentSpecs(p.key("components"), cv, where)
	}
	if dv, ok := t["dependencies"]; ok {
		if dt, ok := d.table(p.key("dependencies"), dv, "dependencies"); ok && len(dt) > 0 {
			d.at(d.keyPos(p.key("dependencies")), "trigger dependencies (middleware) are not supported yet")
		}
	}
	common := []string{"id", "component", "components", "dependencies"}
	switch typ {
	case "http":
		d.fields(p, t, where, append(common, "route", "executor", "static_response")...)
		dr.t.HTTP = d.httpTrigger(p, t, where)
		_, hasComponent := t["component"]
		_, hasStatic := t["static_response"]
		if hasComponent && hasStatic {
			d.at(dr.t.Pos, "%s has both component and static_response: give exactly one", where)
		}
		if !hasComponent && !hasStatic {
			d.at(dr.t.Pos, "%s needs a component or a static_response", where)
		}
	case "redis":
		d.fields(p, t, where, append(common, "channel", "address", "concurrency")...)
		r := &RedisTrigger{}
		if _, ok := t["channel"]; !ok {
			d.at(dr.t.Pos, "missing channel in %s", where)
		}
		d.optString(p, t, "channel", &r.Channel)
		d.optString(p, t, "address", &r.Address)
		if v, ok := t["concurrency"]; ok {
			n, isInt := v.(int64)
			if !isInt || n < 1 || n > maxRedisConcurrency {
				d.at(d.valuePos(p.key("concurrency")), "concurrency must be an integer from 1 to %d", maxRedisConcurrency)
			} else {
				r.Concurrency = int(n)
			}
		}
		dr.t.Redis = r
		if _, ok := t["component"]; !ok {
			d.at(dr.t.Pos, "missing component in %s", where)
		}
	case "mqtt":
		// spin-trigger-mqtt's ComponentConfig (deny_unknown_fields).
		d.fields(p, t, where, append(common, "topic", "qos")...)
		mt := &MQTTTrigger{}
		d.reqString(p, t, "topic", where, &mt.Topic)
		if v, ok := t["qos"]; ok {
			if n, ok := intOrString(v); ok && n >= 0 && n <= 2 {
				mt.QoS = n
			} else {
				d.at(d.valuePos(p.key("qos")), `qos must be 0, 1 or 2 (the plugin writes it as a string: qos = "1")`)
			}
		}
		dr.t.MQTT = mt
		d.requireComponent(dr, t, where)
		dr.t.Config = pluginConfig(t, common)
	case "cron":
		// spin-trigger-cron's CronTriggerConfig (deny_unknown_fields).
		d.fields(p, t, where, append(common, "cron_expression")...)
		ct := &CronTrigger{}
		d.reqString(p, t, "cron_expression", where, &ct.CronExpression)
		if _, ok := t["cron_expression"].(string); ok {
			if err := CheckCronExpression(ct.CronExpression); err != nil {
				d.at(d.valuePos(p.key("cron_expression")), "%v", err)
			}
		}
		dr.t.Cron = ct
		d.requireComponent(dr, t, where)
		dr.t.Config = pluginConfig(t, common)
	default:
		// A plugin trigger interprets its own fields.
		dr.t.Config = pluginConfig(t, common)
	}
	return dr
}

// maxRedisConcurrency bounds [[trigger.redis]] concurrency: more parallel
// instances than this per channel is a typo, not a plan.
const maxRedisConcurrency = 1024

// requireComponent reports a trigger of a built-in type without a
// component (the plugins' configs require one; `components` tables are
// for triggers that take several, which these do not).
func (d *decoder) requireComponent(dr *triggerDraft, t map[string]any, where string) {
	if _, ok := t["component"]; !ok {
		d.at(dr.t.Pos, "missing component in %s", where)
	}
}

// pluginConfig is every field of a trigger table but the common ones, as
// decoded: what a trigger plugin receives.
func pluginConfig(t map[string]any, common []string) map[string]any {
	var cfg map[string]any
	for k, v := range t {
		if !slices.Contains(common, k) {
			if cfg == nil {
				cfg = map[string]any{}
			}
			cfg[k] = v
		}
	}
	return cfg
}

// intOrString reads a small integer written either as a TOML integer or,
// as Spin's trigger plugins spell numbers, as a decimal string.
func intOrString(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		if n < -1<<31 || n > 1<<31-1 {
			return 0, false
		}
		return int(n), true
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(n))
		return i, err == nil
	}
	return 0, false
}

func (d *decoder) httpTrigger(p tomlPath, t map[string]any, where string) *HTTPTrigger {
	h := &HTTPTrigger{Executor: Executor{Type: ExecutorSpin}}
	rp := p.key("route")
	switch r := t["route"].(type) {
	case nil:
		d.at(d.valuePos(p), "missing route in %s", where)
	case string:
		h.Route = r
		if strings.Contains(r, "{{") {
			d.at(d.valuePos(rp), "templates are not allowed in route")
		} else if err := checkRoute(r); err != nil {
			d.at(d.valuePos(rp), "%v", err)
		}
	case map[string]any:
		d.fields(rp, r, "route", "private")
		priv, ok := r["private"].(bool)
		if !ok || !priv {
			d.at(d.valuePos(rp), "route must be a string pattern or { private = true }")
		}
		h.Private = priv
	default:
		d.at(d.valuePos(rp), "route must be a string pattern or { private = true }")
	}
	if v, ok := t["executor"]; ok {
		h.Executor = d.executor(p.key("executor"), v)
	}
	if v, ok := t["static_response"]; ok {
		h.StaticResponse = d.staticResponse(p.key("static_response"), v)
	}
	return h
}

func (d *decoder) executor(p tomlPath, v any) Executor {
	e := Executor{Type: ExecutorSpin}
	t, ok := d.table(p, v, "executor")
	if !ok {
		return e
	}
	var typ string
	d.optString(p, t, "type", &typ)
	switch typ {
	case "spin", "http":
		// Spin spells the default executor both ways.
		d.fields(p, t, "executor (type = \""+typ+"\")", "type")
	case "wagi":
		d.fields(p, t, "executor", "type", "argv", "entrypoint")
		e = Executor{Type: ExecutorWAGI, Argv: "${SCRIPT_NAME} ${ARGS}", Entrypoint: "_start"}
		d.optString(p, t, "argv", &e.Argv)
		d.optString(p, t, "entrypoint", &e.Entrypoint)
	case "":
		if _, ok := t["type"]; !ok {
			d.at(d.valuePos(p), "executor needs a type: \"spin\" or \"wagi\"")
		}
	default:
		d.at(d.valuePos(p.key("type")), "unknown executor type %q: use \"spin\" or \"wagi\"", typ)
	}
	return e
}

func (d *decoder) staticResponse(p tomlPath, v any) *StaticResponse {
	t, ok := d.table(p, v, "static_response")
	if !ok {
		return nil
	}
	d.fields(p, t, "static_response", "status_code", "headers", "body")
	s := &StaticResponse{StatusCode: 200}
	if sv, ok := t["status_code"]; ok {
		code, isInt := sv.(int64)
		if !isInt || code < 100 || code > 999 {
			d.at(d.valuePos(p.key("status_code")), "status_code must be an HTTP status code (an integer from 100 to 999)")
		} else {
			s.StatusCode = int(code)
		}
	}
	if hv, ok := t["headers"]; ok {
		s.Headers = d.stringMap(p.key("headers"), hv, "headers")
	}
	d.optString(p, t, "body", &s.Body)
	return s
}

// componentSpec is a trigger's component: an id or an inline table.
func (d *decoder) componentSpec(p tomlPath, v any, where string) *componentSpec {
	switch c := v.(type) {
	case string:
		return &componentSpec{ref: c, path: p}
	case map[string]any:
		comp := d.component(p, c, where)
		if comp == nil {
			return nil
		}
		return &componentSpec{inline: comp, path: p}
	default:
		d.at(d.valuePos(p), "component must be a component id (string) or an inline component table")
		return nil
	}
}

// componentSpecs is a trigger's `components` table: name = one or many specs.
func (d *decoder) componentSpecs(p tomlPath, v any, where string) []namedSpecs {
	t, ok := d.table(p, v, "components")
	if !ok {
		return nil
	}
	var out []namedSpecs
	for _, name := range sortedKeysByPos(d, p, t) {
		np := p.key(name)
		ns := namedSpecs{name: name}
		if list, ok := t[name].([]any); ok {
			for i, e := range list {
				if s := d.componentSpec(np.index(i), e, where+" components."+name); s != nil {
					ns.specs = append(ns.specs, s)
				}
			}
		} else if s := d.componentSpec(np, t[name], where+" components."+name); s != nil {
			ns.specs = append(ns.specs, s)
		}
		out = append(out, ns)
	}
	return out
}

// componentFields are the keys of [component.<id>].
var componentFields = []string{
	"source", "description", "variables", "environment", "files", "exclude_files",
	"allowed_http_hosts", "allowed_outbound_hosts", "key_value_stores", "sqlite_databases",
	"ai_models", "targets", "build", "tool", "dependencies_inherit_configuration",
	"dependencies", "profile",
}

// component decodes a component table; where names it in messages.
func (d *decoder) component(p tomlPath, v any, where string) *Component {
	t, ok := d.table(p, v, where)
	if !ok {
		return nil
	}
	c := &Component{Pos: d.valuePos(p)}
	if d.componentPaths == nil {
		d.componentPaths = map[*Component]tomlPath{}
	}
	d.componentPaths[c] = p
	d.fields(p, t, where, componentFields...)

	if sv, ok := t["source"]; ok {
		c.Source = d.source(p.key("source"), sv)
	} else {
		d.at(d.valuePos(p), "missing source in %s", where)
	}
	d.optString(p, t, "description", &c.Description)
	if vv, ok := t["variables"]; ok {
		vp := p.key("variables")
		c.Variables = d.stringMap(vp, vv, "variables")
		for name := range c.Variables {
			if err := checkVariableName(name); err != nil {
				d.at(d.keyPos(vp.key(name)), "invalid variable name %q: %v", name, err)
			}
		}
	}
	if ev, ok := t["environment"]; ok {
		ep := p.key("environment")
		c.Environment = d.stringMap(ep, ev, "environment")
		for name, val := range c.Environment {
			if strings.Contains(val, "{{") {
				d.at(d.valuePos(ep.key(name)), "templates are not allowed in environment values: "+
					"declare a component variable and read it with the variables API")
			}
		}
	}
	if fv, ok := t["files"]; ok {
		c.Files = d.files(p.key("files"), fv)
	}
	d.optStrings(p, t, "exclude_files", &c.ExcludeFiles)
	d.optStrings(p, t, "allowed_outbound_hosts", &c.AllowedOutboundHosts)
	var httpHosts []string
	if d.optStrings(p, t, "allowed_http_hosts", &httpHosts) {
		d.allowedHTTPHosts(p.key("allowed_http_hosts"), httpHosts, c)
	}
	for _, f := range []struct {
		key string
		dst *[]string
	}{{"key_value_stores", &c.KeyValueStores}, {"sqlite_databases", &c.SQLiteDatabases}} {
		if d.optStrings(p, t, f.key, f.dst) {
			for i, label := range *f.dst {
				if err := checkLabel(label); err != nil {
					d.at(d.valuePos(p.key(f.key).index(i)), "invalid %s label %q: %v", f.key, label, err)
				}
			}
		}
	}
	d.optStrings(p, t, "ai_models", &c.AIModels)
	if tv, ok := t["targets"]; ok {
		c.Targets = d.targets(p.key("targets"), tv)
	}
	if bv, ok := t["build"]; ok {
		c.Build = d.build(p.key("build"), bv, where)
	}
	if tv, ok := t["tool"]; ok {
		c.Tool = d.tables(p.key("tool"), tv, "tool")
	}
	if _, ok := t["dependencies_inherit_configuration"]; ok {
		c.DependenciesInheritConfiguration = new(bool)
		d.optBool(p, t, "dependencies_inherit_configuration", c.DependenciesInheritConfiguration)
	}
	if dv, ok := t["dependencies"]; ok {
		dp := p.key("dependencies")
		if dt, ok := d.table(dp, dv, "dependencies"); ok {
			c.Dependencies = dt
			if len(dt) > 0 {
				d.at(d.keyPos(dp), "component dependencies are not supported yet")
			}
		}
	}
	if pv, ok := t["profile"]; ok {
		d.profiles(p.key("profile"), pv)
	}
	return c
}

const sourceShapes = "source must be a string path or a table { url, digest } or { registry, package, version }"

func (d *decoder) source(p tomlPath, v any) Source {
	var s Source
	switch sv := v.(type) {
	case string:
		s.Path = sv
		if sv == "" {
			d.at(d.valuePos(p), "source must not be empty")
		}
	case map[string]any:
		switch {
		case sv["url"] != nil || sv["digest"] != nil:
			d.fields(p, sv, "source { url, digest }", "url", "digest")
			d.reqString(p, sv, "url", "source", &s.URL)
			d.reqString(p, sv, "digest", "source", &s.Digest)
			if s.Digest != "" && !validDigest(s.Digest) {
				d.at(d.valuePos(p.key("digest")), "digest %q must be \"sha256:\" followed by 64 lowercase hex digits", s.Digest)
			}
		case sv["package"] != nil || sv["version"] != nil || sv["registry"] != nil:
			d.fields(p, sv, "source { registry, package, version }", "registry", "package", "version")
			d.optString(p, sv, "registry", &s.Registry)
			d.reqString(p, sv, "package", "source", &s.Package)
			d.reqString(p, sv, "version", "source", &s.Version)
		default:
			d.at(d.valuePos(p), sourceShapes)
			return s
		}
	default:
		d.at(d.valuePos(p), sourceShapes)
		return s
	}
	if strings.Contains(s.Path+s.URL+s.Registry+s.Package+s.Version, "{{") {
		d.at(d.valuePos(p), "templates are not allowed in source")
	}
	return s
}

func validDigest(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, c := range []byte(hex) {
		if !isASCIIDigit(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

const filesShapes = "files entries must be a glob string or a table { source, destination }"

func (d *decoder) files(p tomlPath, v any) []FilesMount {
	list, ok := v.([]any)
	if !ok {
		d.at(d.valuePos(p), "files must be a list: "+filesShapes)
		return nil
	}
	var out []FilesMount
	for i, e := range list {
		ep := p.index(i)
		var f FilesMount
		switch ev := e.(type) {
		case string:
			f.Pattern = ev
		case map[string]any:
			d.fields(ep, ev, "files entry { source, destination }", "source", "destination")
			d.reqString(ep, ev, "source", "files entry", &f.Source)
			d.reqString(ep, ev, "destination", "files entry", &f.Destination)
		default:
			d.at(d.valuePos(ep), filesShapes)
			continue
		}
		if strings.Contains(f.Pattern+f.Source+f.Destination, "{{") {
			d.at(d.valuePos(ep), "templates are not allowed in files")
		}
		out = append(out, f)
	}
	return out
}

func (d *decoder) build(p tomlPath, v any, where string) *Build {
	t, ok := d.table(p, v, "build")
	if !ok {
		return nil
	}
	d.fields(p, t, strings.TrimSuffix(where, "]")+".build]", "command", "workdir", "watch")
	b := &Build{}
	switch cv := t["command"].(type) {
	case nil:
		d.at(d.valuePos(p), "missing command in build")
	case string:
		b.Commands = []string{cv}
	default:
		d.optStrings(p, t, "command", &b.Commands)
	}
	d.optString(p, t, "workdir", &b.Workdir)
	d.optStrings(p, t, "watch", &b.Watch)
	return b
}

// profiles checks [component.<id>.profile.<name>] strictly, then rejects it:
// Wisp has no build profiles yet, and silently ignoring one would run
// something other than what the user asked for.
func (d *decoder) profiles(p tomlPath, v any) {
	t, ok := d.table(p, v, "profile")
	if !ok {
		return
	}
	for _, name := range sortedKeys(t) {
		pp := p.key(name)
		pt, ok := d.table(pp, t[name], "profile."+name)
		if !ok {
			continue
		}
		d.fields(pp, pt, "profile."+name, "source", "environment", "dependencies", "build")
		if sv, ok := pt["source"]; ok {
			d.source(pp.key("source"), sv)
		}
		if ev, ok := pt["environment"]; ok {
			d.stringMap(pp.key("environment"), ev, "environment")
		}
		if dv, ok := pt["dependencies"]; ok {
			d.table(pp.key("dependencies"), dv, "dependencies")
		}
		if bv, ok := pt["build"]; ok {
			bp := pp.key("build")
			if bt, ok := d.table(bp, bv, "build"); ok {
				d.fields(bp, bt, "profile."+name+".build", "command")
				switch bt["command"].(type) {
				case nil:
					d.at(d.keyPos(bp), "missing command in build")
				case string:
				default:
					var cmds []string
					d.optStrings(bp, bt, "command", &cmds)
				}
			}
		}
	}
	if len(t) > 0 {
		d.at(d.keyPos(p), "component profiles are not supported yet")
	}
}

// targets are environment references: a catalogue name, { url } or { path }.
// They are kept as strings (the name, URL or path).
func (d *decoder) targets(p tomlPath, v any) []string {
	list, ok := v.([]any)
	if !ok {
		d.at(d.valuePos(p), "targets must be a list")
		return nil
	}
	var out []string
	for i, e := range list {
		ep := p.index(i)
		switch ev := e.(type) {
		case string:
			out = append(out, ev)
			continue
		case map[string]any:
			if len(ev) == 1 {
				if s, ok := ev["url"].(string); ok {
					out = append(out, s)
					continue
				}
				if s, ok := ev["path"].(string); ok {
					out = append(out, s)
					continue
				}
			}
		}
		d.at(d.valuePos(ep), "targets entries must be an environment name or a table { url } or { path }")
	}
	return out
}

// --- generic helpers -------------------------------------------------------

func (d *decoder) table(p tomlPath, v any, what string) (map[string]any, bool) {
	t, ok := v.(map[string]any)
	if !ok {
		d.at(d.valuePos(p), "%s must be a table", what)
	}
	return t, ok
}

// tables is a table of tables (tool, application.trigger).
func (d *decoder) tables(p tomlPath, v any, what string) map[string]map[string]any {
	t, ok := d.table(p, v, what)
	if !ok {
		return nil
	}
	out := make(map[string]map[string]any, len(t))
	for _, k := range sortedKeys(t) {
		if kt, ok := d.table(p.key(k), t[k], what+"."+k); ok {
			out[k] = kt
		}
	}
	return out
}

// fields reports every key of t that is not in known.
func (d *decoder) fields(p tomlPath, t map[string]any, where string, known ...string) {
	for _, k := range sortedKeys(t) {
		if slices.Contains(known, k) {
			continue
		}
		msg := fmt.Sprintf("unknown field %q in %s", k, where)
		if s := suggest(k, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		d.at(d.keyPos(p.key(k)), "%s", msg)
	}
}

// optString stores t[key] in dst if present, reporting a wrong type.
func (d *decoder) optString(p tomlPath, t map[string]any, key string, dst *string) {
	v, ok := t[key]
	if !ok {
		return
	}
	s, ok := v.(string)
	if !ok {
		d.at(d.valuePos(p.key(key)), "%s must be a string", key)
		return
	}
	*dst = s
}

func (d *decoder) reqString(p tomlPath, t map[string]any, key, what string, dst *string) {
	if _, ok := t[key]; !ok {
		d.at(d.valuePos(p), "missing %s in %s", key, what)
		return
	}
	d.optString(p, t, key, dst)
}

func (d *decoder) optBool(p tomlPath, t map[string]any, key string, dst *bool) {
	v, ok := t[key]
	if !ok {
		return
	}
	b, ok := v.(bool)
	if !ok {
		d.at(d.valuePos(p.key(key)), "%s must be true or false", key)
		return
	}
	*dst = b
}

// optStrings stores a list of strings; it reports whether the key was
// present and well-typed.
func (d *decoder) optStrings(p tomlPath, t map[string]any, key string, dst *[]string) bool {
	v, ok := t[key]
	if !ok {
		return false
	}
	kp := p.key(key)
	list, ok := v.([]any)
	if !ok {
		d.at(d.valuePos(kp), "%s must be a list of strings", key)
		return false
	}
	out := make([]string, 0, len(list))
	good := true
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			if good { // one report per list is enough
				d.at(d.valuePos(kp.index(i)), "%s must be a list of strings", key)
			}
			good = false
			continue
		}
		out = append(out, s)
	}
	*dst = out
	return good
}

// stringMap is a table whose values are all strings.
func (d *decoder) stringMap(p tomlPath, v any, what string) map[string]string {
	t, ok := d.table(p, v, what)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(t))
	for k, e := range t {
		s, ok := e.(string)
		if !ok {
			d.at(d.valuePos(p.key(k)), "%s values must be strings", what)
			continue
		}
		out[k] = s
	}
	return out
}

func sortedKeys(t map[string]any) []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortedKeysByPos orders keys as they appear in the file, where order
// matters (Spin keeps trigger types and `components` in document order).
func sortedKeysByPos(d *decoder, p tomlPath, t map[string]any) []string {
	keys := sortedKeys(t)
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := d.keyPos(p.key(keys[i])), d.keyPos(p.key(keys[j]))
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return keys
}

// tomlText renders a decoded value roughly as it was written.
func tomlText(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case map[string]any:
		return "(a table)"
	case []any:
		return "(an array)"
	}
	return fmt.Sprint(v)
}

// suggest returns the known name closest to k if it is a likely typo.
func suggest(k string, known []string) string {
	best, bestDist := "", 3
	for _, c := range known {
		if dist := editDistance(k, c); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	// Two edits in a short word is a different word, not a typo.
	if bestDist*3 > len(k) {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64 // not a typo; also bounds the work on hostile input
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

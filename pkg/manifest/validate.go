package manifest

import (
	"fmt"
	"sort"
	"strings"
)

// validate checks the rules that relate parts of a normalised manifest to
// each other: references, uniqueness and templates. Rules about a single
// value (types, id shapes, route syntax) are checked while decoding.
func (d *decoder) validate(m *Manifest) {
	d.checkTriggerIDs()
	d.checkComponentRefs(m)
	d.checkRoutes()
	d.checkRedis(m)
	d.checkMQTT(m)
	for _, id := range sortedComponentIDs(m) {
		d.checkComponentTemplates(m, m.Components[id])
	}
}

func (d *decoder) checkTriggerIDs() {
	first := map[string]*triggerDraft{}
	for _, dr := range d.triggersInFileOrder() {
		prev, dup := first[dr.t.ID]
		if !dup {
			first[dr.t.ID] = dr
			continue
		}
		d.at(d.valuePos(dr.path.key("id")), "duplicate trigger id %q (also used by the trigger at line %d)", dr.t.ID, prev.t.Pos.Line)
	}
}

func (d *decoder) checkComponentRefs(m *Manifest) {
	for _, dr := range d.triggers {
		specs := []*componentSpec{}
		if dr.component != nil {
			specs = append(specs, dr.component)
		}
		for _, ns := range dr.components {
			specs = append(specs, ns.specs...)
		}
		for _, s := range specs {
			if err := checkKebabID(s.ref); err != nil {
				d.at(d.valuePos(s.path), "invalid component id %q: %v", s.ref, err)
				continue
			}
			if _, ok := m.Components[s.ref]; !ok {
				d.at(d.valuePos(s.path), "trigger %q refers to unknown component %q%s", dr.t.ID, s.ref, didYouMean(s.ref, m))
			}
		}
	}
}

func didYouMean(id string, m *Manifest) string {
	if s := suggest(id, sortedComponentIDs(m)); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// checkRoutes rejects two public HTTP routes that match the same requests.
// Spin logs such duplicates and lets the last one win; one of the two is
// then dead code, so Wisp refuses the manifest instead.
func (d *decoder) checkRoutes() {
	seen := map[string]*triggerDraft{}
	for _, dr := range d.triggersInFileOrder() {
		h := dr.t.HTTP
		if h == nil || h.Private || checkRoute(h.Route) != nil {
			continue
		}
		key := routeKey(h.Route)
		prev, dup := seen[key]
		if !dup {
			seen[key] = dr
			continue
		}
		d.at(d.valuePos(dr.path.key("route")), "route %q of trigger %q duplicates route %q of trigger %q (line %d)",
			h.Route, dr.t.ID, prev.t.HTTP.Route, prev.t.ID, prev.t.Pos.Line)
	}
}

// checkRedis: Spin resolves the redis address and channel as templates over
// the application variables, and needs an address from the trigger or from
// [application.trigger.redis].
func (d *decoder) checkRedis(m *Manifest) {
	appAddr, _ := m.Application.TriggerConfig["redis"]["address"].(string)
	appAddrPath := tomlPath("").key("application").key("trigger").key("redis").key("address")
	if appAddr != "" {
		d.checkTemplate(m, appAddrPath, appAddr, "redis address")
	}
	for _, dr := range d.triggers {
		r := dr.t.Redis
		if r == nil {
			continue
		}
		d.checkTemplate(m, dr.path.key("channel"), r.Channel, "redis channel")
		if r.Address != "" {
			d.checkTemplate(m, dr.path.key("address"), r.Address, "redis address")
		} else if appAddr == "" {
			d.at(dr.t.Pos, "redis trigger %q has no address: set address here or in [application.trigger.redis]", dr.t.ID)
		}
	}
}

// checkMQTT: the mqtt plugin resolves the broker's address, username and
// password and each trigger's topic as templates over the application
// variables, and needs an address.
func (d *decoder) checkMQTT(m *Manifest) {
	app := m.Application.TriggerConfig["mqtt"]
	appPath := tomlPath("").key("application").key("trigger").key("mqtt")
	for _, key := range []string{"address", "username", "password"} {
		if v, ok := app[key].(string); ok && v != "" {
			d.checkTemplate(m, appPath.key(key), v, "mqtt "+key)
		}
	}
	addr, _ := app["address"].(string)
	for _, dr := range d.triggers {
		mt := dr.t.MQTT
		if mt == nil {
			continue
		}
		d.checkTemplate(m, dr.path.key("topic"), mt.Topic, "mqtt topic")
		if addr == "" {
			d.at(dr.t.Pos, "mqtt trigger %q has no broker: set address in [application.trigger.mqtt]", dr.t.ID)
		}
	}
}

func (d *decoder) checkComponentTemplates(m *Manifest, c *Component) {
	p := d.componentPaths[c]
	for _, name := range sortedStringKeys(c.Variables) {
		d.checkTemplate(m, p.key("variables").key(name), c.Variables[name],
			fmt.Sprintf("component variable %q", name))
	}
	// Spin resolves allowed_outbound_hosts templates over the application
	// variables (outbound-networking-config's AllowedHostsConfig::validate
	// is handed the application's resolver), not the component's variables.
	for i, h := range c.AllowedOutboundHosts {
		hp := p.key("allowed_outbound_hosts").index(i)
		if strings.Contains(h, "{{") {
			if !d.checkTemplate(m, hp, h, "allowed_outbound_hosts entry") {
				continue
			}
			// Like Spin, check what the defaults produce; an empty result
			// is allowed (an optional endpoint).
			resolved, ok := renderDefaults(m, h)
			if !ok || resolved == "" || resolved == "http://" || resolved == "https://" {
				continue
			}
			if err := checkAllowedHost(resolved); err != nil {
				d.at(d.valuePos(hp), "allowed_outbound_hosts entry %q with the default variable values is %q: %v", h, resolved, err)
			}
			continue
		}
		if h == "insecure:allow-all" {
			d.at(d.valuePos(hp), "'insecure:allow-all' is not allowed in allowed_outbound_hosts: use '*://*:*' if you really want to allow all outbound traffic")
		} else if err := checkAllowedHost(h); err != nil {
			d.at(d.valuePos(hp), "invalid allowed_outbound_hosts entry %q: %v", h, err)
		}
	}
}

// checkAllowedHost is a shallow check of <scheme>://<host>[:<port>]; the
// outbound networking factor owns the full grammar.
func checkAllowedHost(h string) error {
	scheme, rest, ok := strings.Cut(h, "://")
	if !ok {
		return fmt.Errorf("it has no scheme: write <scheme>://<host>[:<port>], for example \"https://%s\"", h)
	}
	if scheme == "" || rest == "" {
		return fmt.Errorf("write <scheme>://<host>[:<port>], with '*' wildcards allowed for each")
	}
	if strings.ContainsAny(rest, " \t\r\n") {
		return fmt.Errorf("the host must not contain spaces")
	}
	if _, path, ok := strings.Cut(rest, "/"); ok && path != "" {
		return fmt.Errorf("it has a path, but only <scheme>://<host>[:<port>] is allowed")
	}
	return nil
}

// renderDefaults renders a template with the application variables'
// defaults; ok is false when one of them has none (it is required).
func renderDefaults(m *Manifest, s string) (string, bool) {
	t, err := ParseTemplate(s)
	if err != nil {
		return "", false
	}
	out, err := t.Render(func(name string) (string, error) {
		if v, ok := m.Variables[name]; ok && v.Default != nil {
			return *v.Default, nil
		}
		return "", fmt.Errorf("no default")
	})
	return out, err == nil
}

// checkTemplate parses a {{ }} template and checks that every variable it
// names is an application variable.
func (d *decoder) checkTemplate(m *Manifest, p tomlPath, s, what string) bool {
	t, err := ParseTemplate(s)
	if err != nil {
		d.at(d.valuePos(p), "invalid template in %s: %v", what, err)
		return false
	}
	ok := true
	for _, v := range t.Vars() {
		if _, declared := m.Variables[v]; !declared {
			d.at(d.valuePos(p), "%s refers to undeclared application variable %q (declare it in [variables])", what, v)
			ok = false
		}
	}
	return ok
}

func (d *decoder) triggersInFileOrder() []*triggerDraft {
	out := append([]*triggerDraft(nil), d.triggers...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].t.Pos, out[j].t.Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return out
}

func sortedComponentIDs(m *Manifest) []string {
	ids := make([]string, 0, len(m.Components))
	for id := range m.Components {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func sortedStringKeys(mp map[string]string) []string {
	keys := make([]string, 0, len(mp))
	for k := range mp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package manifest

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Normalisation gives every manifest one shape, the way Spin's
// normalize.rs does, so that generated ids match Spin's: later stages (and
// locked apps exchanged with Spin) see the same trigger and component ids.

// normalize assigns trigger ids, hoists inline components and fills
// Manifest.Triggers in file order.
func (d *decoder) normalize(m *Manifest) {
	d.assignTriggerIDs()
	d.hoistInlineComponents(m)
	m.Triggers = make([]Trigger, 0, len(d.triggers))
	for _, dr := range d.triggers {
		m.Triggers = append(m.Triggers, *dr.t)
	}
	sort.SliceStable(m.Triggers, func(i, j int) bool {
		a, b := m.Triggers[i].Pos, m.Triggers[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// assignTriggerIDs gives each trigger without an id Spin's generated one:
// "<component>-<type>-trigger" when it references a component by id and
// that is free, else "<type>-trigger<n>".
func (d *decoder) assignTriggerIDs() {
	taken := map[string]bool{}
	for _, dr := range d.triggers {
		taken[dr.t.ID] = true
	}
	counter := map[string]int{}
	for _, dr := range d.triggers {
		t := dr.t
		if t.ID != "" {
			continue
		}
		if dr.component != nil && dr.component.inline == nil {
			if id := fmt.Sprintf("%s-%s-trigger", dr.component.ref, t.Type); !taken[id] {
				t.ID = id
				taken[id] = true
				continue
			}
		}
		for {
			counter[t.Type]++
			id := fmt.Sprintf("%s-trigger%d", t.Type, counter[t.Type])
			if !taken[id] {
				t.ID = id
				taken[id] = true
				break
			}
		}
	}
}

// hoistInlineComponents moves inline component tables into
// Manifest.Components and replaces them by their id: "<trigger id>-component"
// when that is a valid, free id and the trigger has a single component,
// else "inline-component<n>".
func (d *decoder) hoistInlineComponents(m *Manifest) {
	for _, dr := range d.triggers {
		specs := []*componentSpec{}
		if dr.component != nil {
			specs = append(specs, dr.component)
		}
		for _, ns := range dr.components {
			specs = append(specs, ns.specs...)
		}
		counter := 1
		for _, s := range specs {
			if s.inline == nil {
				continue
			}
			id := dr.t.ID + "-component"
			if _, exists := m.Components[id]; len(specs) > 1 || exists || checkKebabID(id) != nil {
				for {
					id = fmt.Sprintf("inline-component%d", counter)
					if _, exists := m.Components[id]; !exists {
						break
					}
					counter++
				}
			}
			s.inline.ID = id
			m.Components[id] = s.inline
			s.ref, s.inline = id, nil
		}
		if dr.component != nil {
			dr.t.Component = dr.component.ref
		}
		if len(dr.components) > 0 {
			// Plugins read the multi-component table from Config, as
			// component ids: inline tables are hoisted like the others.
			comps := make(map[string][]string, len(dr.components))
			for _, ns := range dr.components {
				ids := []string{}
				for _, s := range ns.specs {
					ids = append(ids, s.ref)
				}
				comps[ns.name] = ids
			}
			if dr.t.Config == nil {
				dr.t.Config = map[string]any{}
			}
			dr.t.Config["components"] = comps
		}
	}
}

// allowedHTTPHosts converts the deprecated allowed_http_hosts to
// allowed_outbound_hosts entries exactly as Spin's
// compat::convert_allowed_http_to_allowed_hosts does, appending them.
func (d *decoder) allowedHTTPHosts(p tomlPath, hosts []string, c *Component) {
	for _, h := range hosts {
		if h == "insecure:allow-all" {
			c.AllowedOutboundHosts = append(c.AllowedOutboundHosts, "http://*:*", "https://*:*", "http://self")
			return
		}
	}
	for i, h := range hosts {
		host, port, err := parseAllowedHTTPHost(h)
		if err != nil {
			d.at(d.valuePos(p.index(i)), "invalid allowed_http_hosts entry: %v", err)
			continue
		}
		if host == "self" {
			c.AllowedOutboundHosts = append(c.AllowedOutboundHosts, "http://self")
			continue
		}
		if port != "" {
			port = ":" + port
		}
		c.AllowedOutboundHosts = append(c.AllowedOutboundHosts, "http://"+host+port, "https://"+host+port)
	}
}

// parseAllowedHTTPHost reads "host", "host:port" or "http(s)://host[:port][/]".
func parseAllowedHTTPHost(text string) (host, port string, err error) {
	schemed := strings.Contains(text, "//")
	raw := text
	if !schemed {
		raw = "http://" + text
	}
	u, perr := url.Parse(raw)
	switch {
	case perr != nil || (!schemed && u.Scheme != "http"):
		return "", "", fmt.Errorf("%s isn't a valid host or host:port string", text)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", fmt.Errorf("%s isn't a valid host or host:port string", text)
	case u.Hostname() == "":
		return "", "", fmt.Errorf("%s doesn't contain a host name", text)
	case len(u.Path) > 1 || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "", "", fmt.Errorf("%s contains a path, should be host and optional port only", text)
	}
	host = strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6, kept bracketed like Spin's url crate
	}
	port = u.Port()
	if n, perr := strconv.Atoi(port); port != "" && (perr != nil || n > 65535) {
		return "", "", fmt.Errorf("%s has an invalid port", text)
	}
	// The url crate drops a port that is the scheme's default.
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	return host, port, nil
}

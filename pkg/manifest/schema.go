package manifest

import (
	"encoding/json"
	"slices"
)

// Schema returns a JSON Schema (draft 2020-12) of the spin.toml version 2
// manifest as Wisp reads it, for editors (via TOML language servers such as
// Taplo) and for `wisp maintenance manifest-schema`. It is written by hand
// from small Go helpers rather than reflected from the Go types, because the
// TOML's union shapes (a string or a table, ...) are not the Go shapes.
//
// The schema checks shapes and names; Parse is the authority: some rules
// (references, duplicate routes, templates) are beyond what a schema says.
func Schema() []byte {
	b, err := json.MarshalIndent(schemaDoc(), "", "  ")
	if err != nil {
		panic(err) // the document is a static literal
	}
	return append(b, '\n')
}

type obj = map[string]any

const (
	// A word is all lowercase or all UPPERCASE and starts with a letter
	// (crates/serde/src/id.rs).
	wordPattern  = `(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*)`
	kebabPattern = `^` + wordPattern + `(?:-` + wordPattern + `)*$`
	snakePattern = `^` + wordPattern + `(?:_` + wordPattern + `)*$`
	lowerSnake   = `^[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*$`
)

func str(desc string) obj { return obj{"type": "string", "description": desc} }
func boolean(desc string) obj {
	return obj{"type": "boolean", "description": desc}
}
func strList(desc string) obj {
	return obj{"type": "array", "items": obj{"type": "string"}, "description": desc}
}
func ref(name string) obj { return obj{"$ref": "#/$defs/" + name} }

// strict is a table with exactly these properties.
func strict(desc string, props obj, required ...string) obj {
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if desc != "" {
		o["description"] = desc
	}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// tableOfTables is a free-form table of tables (tool, application.trigger).
func tableOfTables(desc string) obj {
	return obj{"type": "object", "additionalProperties": obj{"type": "object"}, "description": desc}
}

func schemaDoc() obj {
	triggerCommon := obj{
		"id":           str("The trigger's id; generated when absent."),
		"component":    ref("componentSpec"),
		"components":   obj{"type": "object", "description": "Named components for triggers that use several.", "additionalProperties": obj{"anyOf": []any{ref("componentSpec"), obj{"type": "array", "items": ref("componentSpec")}}}},
		"dependencies": obj{"type": "object", "description": "Trigger dependencies (middleware): not supported by Wisp yet."},
	}
	with := func(extra obj) obj {
		props := obj{}
		for k, v := range triggerCommon {
			props[k] = v
		}
		for k, v := range extra {
			props[k] = v
		}
		return props
	}

	httpTrigger := strict("An HTTP trigger: give exactly one of component and static_response.", with(obj{
		"route": obj{
			"description": `The route: "/exact", "/users/:id", "/prefix/...", or { private = true } for a route reachable only through service chaining.`,
			"oneOf": []any{
				obj{"type": "string", "pattern": "^/"},
				strict("", obj{"private": obj{"const": true}}, "private"),
			},
		},
		"executor": obj{
			"description": "How the component is called.",
			"oneOf": []any{
				strict("", obj{"type": obj{"enum": []any{"spin", "http"}}}, "type"),
				strict("", obj{
					"type":       obj{"const": "wagi"},
					"argv":       str(`Arguments; default "${SCRIPT_NAME} ${ARGS}".`),
					"entrypoint": str(`The exported function to call; default "_start".`),
				}, "type"),
			},
		},
		"static_response": strict("A fixed response served without a component.", obj{
			"status_code": obj{"type": "integer", "minimum": 100, "maximum": 999, "description": "Default 200."},
			"headers":     obj{"type": "object", "additionalProperties": obj{"type": "string"}},
			"body":        str("The response body."),
		}),
	}), "route")
	httpTrigger["oneOf"] = []any{
		obj{"required": []any{"component"}, "not": obj{"required": []any{"static_response"}}},
		obj{"required": []any{"static_response"}, "not": obj{"required": []any{"component"}}},
	}

	redisTrigger := strict("A Redis pub/sub trigger.", with(obj{
		"channel":     str("The channel to subscribe to; may use {{ variable }} templates."),
		"address":     str("The Redis server, overriding [application.trigger.redis] address."),
		"concurrency": obj{"type": "integer", "minimum": 1, "maximum": maxRedisConcurrency, "description": "Wisp only (Spin rejects it): how many messages the component handles at once; default 1, in order."},
	}), "channel", "component")

	// Numbers the trigger plugins read as strings ("1"); integers are
	// accepted too.
	numberOrString := func(desc string, max int) obj {
		return obj{"description": desc, "oneOf": []any{
			obj{"type": "integer", "minimum": 0, "maximum": max},
			obj{"type": "string", "pattern": "^[0-9]+$"},
		}}
	}
	mqttTrigger := strict("An MQTT trigger (the spin-trigger-mqtt plugin's shape).", with(obj{
		"topic": str("The topic filter to subscribe to; may use {{ variable }} templates."),
		"qos":   numberOrString("The subscription's quality of service: 0, 1 or 2 (default 0).", 2),
	}), "topic", "component")
	cronTrigger := strict("A cron trigger (the spin-trigger-cron plugin's shape).", with(obj{
		"cron_expression": str("Six fields, seconds first: \"sec min hour day-of-month month day-of-week\"."),
	}), "cron_expression", "component")

	pluginTrigger := obj{
		"type":        "object",
		"description": "A trigger implemented by a plugin (mqtt, cron, ...); its other fields belong to the plugin.",
		"properties":  triggerCommon,
	}

	component := strict("A component: a Wasm binary and what it may access.", obj{
		"source":      ref("source"),
		"description": str("Free text."),
		"variables": obj{
			"type": "object", "propertyNames": obj{"pattern": lowerSnake},
			"additionalProperties": obj{"type": "string"},
			"description":          "Component variables; values may use {{ application_variable }} templates.",
		},
		"environment": obj{
			"type": "object", "additionalProperties": obj{"type": "string"},
			"description": "Environment variables (literal values: no templates).",
		},
		"files": obj{
			"type": "array", "description": "Files mounted into the component.",
			"items": obj{"oneOf": []any{
				obj{"type": "string", "description": "A glob, relative to the manifest, mounted at the same path."},
				strict("", obj{"source": str("A file or directory."), "destination": str("Where to mount it.")}, "source", "destination"),
			}},
		},
		"exclude_files":          strList("Globs removed from files."),
		"allowed_http_hosts":     strList("Deprecated: use allowed_outbound_hosts."),
		"allowed_outbound_hosts": strList("Hosts the component may connect to, as <scheme>://<host>[:<port>]."),
		"key_value_stores":       obj{"type": "array", "items": ref("label"), "description": "Key-value stores the component may use."},
		"sqlite_databases":       obj{"type": "array", "items": ref("label"), "description": "SQLite databases the component may use."},
		"ai_models":              strList("AI models the component may use."),
		"targets":                obj{"type": "array", "items": ref("target"), "description": "Target environments."},
		"build": strict("How `wisp build` builds the component.", obj{
			"command": obj{"oneOf": []any{obj{"type": "string"}, obj{"type": "array", "items": obj{"type": "string"}}}, "description": "A command, or commands run in order."},
			"workdir": str("The directory the commands run in, relative to the manifest."),
			"watch":   strList("Globs that trigger a rebuild under `wisp watch`."),
		}, "command"),
		"tool":                               tableOfTables("Settings for external tools."),
		"dependencies_inherit_configuration": boolean("Whether dependencies inherit the component's configuration."),
		"dependencies":                       obj{"type": "object", "description": "Component dependencies: not supported by Wisp yet."},
		"profile":                            obj{"type": "object", "description": "Build profiles: not supported by Wisp yet."},
	}, "source")

	return obj{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  "https://wisp.dev/schemas/spin-manifest-v2.json",
		"title":                "spin.toml (manifest version 2)",
		"type":                 "object",
		"required":             []any{"spin_manifest_version", "application"},
		"additionalProperties": false,
		"properties": obj{
			"spin_manifest_version": obj{"const": 2, "description": "Always 2."},
			"application": strict("The application.", obj{
				"name":        str("The application's name."),
				"version":     str("The application's version."),
				"description": str("Free text."),
				"authors":     strList("The authors."),
				"targets":     obj{"type": "array", "items": ref("target"), "description": "Target environments."},
				"trigger": obj{
					"type": "object", "description": "Settings for all triggers of a type, for example redis.address.",
					"properties": obj{
						"redis": strict("", obj{"address": str("The default Redis server; may use {{ variable }} templates.")}),
						"http":  strict("", obj{"base": str("The base path of all routes.")}),
						"mqtt": strict("", obj{
							"address":             str("The MQTT broker (mqtt://host:port); may use {{ variable }} templates."),
							"username":            str("The broker user name; may use {{ variable }} templates."),
							"password":            str("The broker password; may use {{ variable }} templates."),
							"keep_alive_interval": numberOrString("Seconds between keep-alive pings (default 30).", 65535),
						}),
					},
					"additionalProperties": obj{"type": "object"},
				},
				"tool": tableOfTables("Settings for external tools."),
			}, "name"),
			"variables": obj{
				"type": "object", "description": "Application variables.",
				"propertyNames":        obj{"pattern": lowerSnake},
				"additionalProperties": ref("variable"),
			},
			"trigger": obj{
				"type": "object", "description": "Triggers, as [[trigger.<type>]] arrays of tables.",
				"properties": obj{
					"http":  obj{"type": "array", "items": httpTrigger},
					"redis": obj{"type": "array", "items": redisTrigger},
					"mqtt":  obj{"type": "array", "items": mqttTrigger},
					"cron":  obj{"type": "array", "items": cronTrigger},
				},
				"additionalProperties": obj{"type": "array", "items": pluginTrigger},
			},
			"component": obj{
				"type": "object", "description": "Components, as [component.<id>] tables.",
				"propertyNames":        obj{"pattern": kebabPattern},
				"additionalProperties": ref("component"),
			},
		},
		"$defs": obj{
			"component": component,
			"variable": obj{
				"type": "object", "additionalProperties": false,
				"description": "A variable: required, or with a default.",
				"properties": obj{
					"default":     str("The value when none is provided."),
					"required":    boolean("Whether a value must be provided at runtime."),
					"secret":      boolean("Whether the value is hidden from logs."),
					"description": str("Free text."),
				},
				"oneOf": []any{
					obj{"required": []any{"required"}, "properties": obj{"required": obj{"const": true}}, "not": obj{"required": []any{"default"}}},
					obj{"required": []any{"default"}, "not": obj{"properties": obj{"required": obj{"const": true}}, "required": []any{"required"}}},
				},
			},
			"componentSpec": obj{
				"description": "A component id, or an inline component table.",
				"oneOf":       []any{obj{"type": "string", "pattern": kebabPattern}, ref("component")},
			},
			"source": obj{
				"description": "Where the component's Wasm comes from.",
				"oneOf": []any{
					obj{"type": "string", "minLength": 1, "description": "A path relative to the manifest."},
					strict("", obj{"url": str("The URL."), "digest": obj{"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}}, "url", "digest"),
					strict("", obj{"registry": str("The registry; default when absent."), "package": str("The package name."), "version": str("The version.")}, "package", "version"),
				},
			},
			"label": obj{
				"description": "A kebab-case or snake_case label.",
				"anyOf":       []any{obj{"type": "string", "pattern": kebabPattern}, obj{"type": "string", "pattern": snakePattern}},
			},
			"target": obj{
				"description": "A target environment: a name, or { url } or { path }.",
				"oneOf": []any{
					obj{"type": "string"},
					strict("", obj{"url": obj{"type": "string"}}, "url"),
					strict("", obj{"path": obj{"type": "string"}}, "path"),
				},
			},
		},
	}
}

// schemaComponentFields lists the component properties of the schema, for
// the test that keeps it in step with the decoder.
func schemaComponentFields() []string {
	props := schemaDoc()["$defs"].(obj)["component"].(obj)["properties"].(obj)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

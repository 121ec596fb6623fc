package manifest_test

import (
	"fmt"

	"github.com/wisp-dev/wisp/pkg/manifest"
)

func ExampleParse() {
	m, err := manifest.Parse([]byte(`
spin_manifest_version = 2

[application]
name = "hello"

[[trigger.http]]
route = "/hello/..."
component = "hello"

[component.hello]
source = "hello.wasm"
allowed_outbound_hosts = ["https://example.com"]
`), "spin.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	t := m.Triggers[0]
	fmt.Println(t.ID, t.HTTP.Route, "->", m.Components[t.Component].Source.Path)
	// Output: hello-http-trigger /hello/... -> hello.wasm
}

func ExampleParse_errors() {
	_, err := manifest.Parse([]byte(`spin_manifest_version = 2

[application]
name = "hello"

[[trigger.http]]
route = "hello"
component = "hello"

[component.hello]
source = "hello.wasm"
enviroment = { A = "b" }
`), "spin.toml")
	fmt.Println(err)
	// Output:
	// spin.toml:7:9: route "hello" must start with "/"
	// spin.toml:12:1: unknown field "enviroment" in [component.hello] (did you mean "environment"?)
}

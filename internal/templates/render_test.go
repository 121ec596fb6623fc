package templates

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	vars := map[string]string{"project-name": "My HTTPServer", "http-path": "/static", "empty": ""}
	tests := []struct {
		in, want string
	}{
		{"plain text", "plain text"},
		{"{{project-name}}", "My HTTPServer"},
		{"name = \"{{ project-name | kebab_case }}\"", `name = "my-http-server"`},
		{"{{project-name|snake_case}}", "my_http_server"},
		{"{{project-name | pascal_case}}", "MyHttpServer"},
		{"{{ http-path | http_wildcard }}", "/static/..."},
		{"{{project-name | snake_case | kebab_case}}", "my-http-server"},
		{"[{{empty}}]", "[]"},
		{"a {{project-name | kebab_case}} b {{http-path}} c", "a my-http-server b /static c"},
		{"single { braces } and }} stay", "single { braces } and }} stay"},
	}
	for _, tt := range tests {
		got, err := Render(tt.in, vars)
		if err != nil || got != tt.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"{{ nope }}", `line 1: unknown variable "nope"`},
		{"a\nb\n{{ project-name | shout }}", `line 3: unknown filter "shout"`},
		{"x {{ project-name", `line 1: unclosed '{{'`},
	}
	for _, tt := range tests {
		_, err := Render(tt.in, map[string]string{"project-name": "x"})
		if err == nil || err.Error() != tt.want {
			t.Errorf("Render(%q) error = %v; want %q", tt.in, err, tt.want)
		}
	}
}

func TestCases(t *testing.T) {
	tests := []struct{ in, kebab, snake, pascal string }{
		{"hello", "hello", "hello", "Hello"},
		{"my-app", "my-app", "my_app", "MyApp"},
		{"my_app", "my-app", "my_app", "MyApp"},
		{"myApp", "my-app", "my_app", "MyApp"},
		{"MyApp2Go", "my-app2-go", "my_app2_go", "MyApp2Go"},
		{"HTTPServer", "http-server", "http_server", "HttpServer"},
		{"api-v2", "api-v2", "api_v2", "ApiV2"},
		{"--x__y--", "x-y", "x_y", "XY"},
	}
	for _, tt := range tests {
		if got := KebabCase(tt.in); got != tt.kebab {
			t.Errorf("KebabCase(%q) = %q, want %q", tt.in, got, tt.kebab)
		}
		if got := SnakeCase(tt.in); got != tt.snake {
			t.Errorf("SnakeCase(%q) = %q, want %q", tt.in, got, tt.snake)
		}
		if got := PascalCase(tt.in); got != tt.pascal {
			t.Errorf("PascalCase(%q) = %q, want %q", tt.in, got, tt.pascal)
		}
	}
}

func TestHTTPWildcard(t *testing.T) {
	for in, want := range map[string]string{"/": "/...", "/...": "/...", "/static": "/static/...", "/static/": "/static/...", "/a/...": "/a/..."} {
		if got := httpWildcard(in); got != want {
			t.Errorf("httpWildcard(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add("{{ project-name | kebab_case }} {{x")
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Render(s, map[string]string{"project-name": "p"})
		if err == nil && !strings.Contains(s, "{{") && out != s {
			t.Fatalf("text without {{ changed: %q -> %q", s, out)
		}
	})
}

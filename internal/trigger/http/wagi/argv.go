package wagi

import (
	"net/url"
	"strings"

	trigger "github.com/wisp-dev/wisp/internal/trigger/http"
)

// scriptName is what ${SCRIPT_NAME} stands for in argv: the component's
// route ("/" for the root route, whose prefix is empty).
func scriptName(info *trigger.RequestInfo) string {
	if info.ComponentRoute == "" {
		return "/"
	}
	return info.ComponentRoute
}

// defaultArgv is Spin's default argv template for WAGI components.
const defaultArgv = "${SCRIPT_NAME} ${ARGS}"

// argv expands the argv template: it is split on spaces, "${SCRIPT_NAME}"
// becomes the component route and a "${ARGS}" word becomes one argument per
// '&'-separated, URL-decoded part of the query string (none for an empty
// query). Splitting before substituting keeps a decoded argument containing
// a space as one argument.
func argv(template, script, rawQuery string) []string {
	if template == "" {
		template = defaultArgv
	}
	var args []string
	if rawQuery != "" {
		for _, part := range strings.Split(rawQuery, "&") {
			if dec, err := url.QueryUnescape(part); err == nil {
				part = dec
			}
			args = append(args, part)
		}
	}
	var out []string
	for _, word := range strings.Split(template, " ") {
		if word == "" {
			continue
		}
		if word == "${ARGS}" {
			out = append(out, args...)
			continue
		}
		word = strings.ReplaceAll(word, "${SCRIPT_NAME}", script)
		out = append(out, strings.ReplaceAll(word, "${ARGS}", strings.Join(args, " ")))
	}
	return out
}

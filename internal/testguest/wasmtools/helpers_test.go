package wasmtools

import (
	"path/filepath"
	"strings"
)

func dirOf(p string) string       { return filepath.Dir(p) }
func baseOf(p string) string      { return filepath.Base(p) }
func contains(s, sub string) bool { return strings.Contains(s, sub) }

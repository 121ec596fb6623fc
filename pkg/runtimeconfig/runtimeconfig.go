// Package runtimeconfig reads Spin's runtime-config.toml: the operator's
// choices of backends (key-value stores, SQLite databases, variable
// providers, LLM compute, outbound networking) that the manifest leaves open.
//
// Each host capability (factor) takes the top-level sections it owns with
// Take; whatever no one took is an error, so a typo never silently falls back
// to a default backend (the same strict key tracking as Spin). TakeTable
// and TakeLabelled take a section as one [section] table or as labelled
// [section.<label>] tables and read its fields strictly (Table).
package runtimeconfig

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Config is a parsed runtime-config.toml.
type Config struct {
	// Path is the file it was read from ("" for an empty config).
	Path  string
	table map[string]any
	taken map[string]bool
}

// Empty returns a config with no sections, used when no file is given.
func Empty() *Config {
	return &Config{table: map[string]any{}, taken: map[string]bool{}}
}

// Load reads and parses the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("runtime config: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a runtime config document; path names it in errors.
func Parse(data []byte, path string) (*Config, error) {
	c := Empty()
	c.Path = path
	dec := toml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c.table); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("%s:%d:%d: %s", path, row, col, de.Error())
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Take returns the top-level section named key and marks it as used.
// ok is false when the file has no such section.
func (c *Config) Take(key string) (value any, ok bool) {
	c.taken[key] = true
	value, ok = c.table[key]
	return value, ok
}

// Keys returns the top-level keys present in the file, sorted.
func (c *Config) Keys() []string {
	keys := make([]string, 0, len(c.table))
	for k := range c.table {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// spinSections are the top-level keys Spin's runtime config defines. Wisp
// recognises them even before it implements them, so a user gets "not
// supported yet" rather than "unknown key" for a valid Spin file.
var spinSections = []string{
	"key_value_store", "sqlite_database", "config_provider", "variables_provider",
	"llm_compute", "outbound_networking", "outbound_http", "outbound_redis",
	"outbound_pg", "outbound_mysql", "outbound_mqtt", "client_tls", "state_dir",
	"log_dir", "max_instance_memory",
}

// CheckAllTaken reports every section no factor took: a key Spin knows but
// Wisp does not implement yet, or a key nobody knows (most likely a typo).
func (c *Config) CheckAllTaken() error {
	var problems []string
	for _, k := range c.Keys() {
		if c.taken[k] {
			continue
		}
		if slices.Contains(spinSections, k) {
			problems = append(problems, fmt.Sprintf("section %q is not supported yet by wisp", k))
		} else {
			problems = append(problems, fmt.Sprintf("unknown section %q (Spin's runtime config keys: %s)", k, strings.Join(spinSections, ", ")))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", c.Path, strings.Join(problems, "; "))
}

// Package suites embeds the shipped benchmark suites, so the default and
// gate suites work wherever the binary runs.
package suites

import (
	"embed"
	"strings"
)

// Files holds suites/*.yaml.
//
//go:embed *.yaml
var Files embed.FS

// Names lists the built-in suites ("default", "gate", ...), sorted.
func Names() []string {
	entries, _ := Files.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return names
}

// List is Names joined for a help text or an error: "default, gate, ...".
func List() string { return strings.Join(Names(), ", ") }

// Package suites embeds the shipped benchmark suites, so the default and
// gate suites work wherever the binary runs.
package suites

import "embed"

// Files holds suites/*.yaml.
//
//go:embed *.yaml
var Files embed.FS

// Package configs embeds the shipped machine profiles.
package configs

import "embed"

// Files holds configs/*.yaml.
//
//go:embed *.yaml
var Files embed.FS

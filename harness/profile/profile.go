// Package profile reads machine profiles (configs/*.yaml): the targets a
// kind of machine should meet, chosen from the detected CPU unless named.
package profile

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Profile is one machine class and its targets.
type Profile struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Match       Match    `yaml:"match"`
	Targets     []Target `yaml:"targets"`
	File        string   `yaml:"-"`
}

// Match selects the profile for a CPU brand string.
type Match struct {
	BrandContains []string `yaml:"brand_contains"`
}

// Target applies to models of one mock shape ("*": every model).
type Target struct {
	ModelShape           string  `yaml:"model_shape"`
	TTFTMsMax            float64 `yaml:"ttft_ms_max"`
	DecodeTPSMin         float64 `yaml:"decode_tps_min"`
	DecodeSpecTPSMin     float64 `yaml:"decode_spec_tps_min"`
	DecodeBWFractionMin  float64 `yaml:"decode_bw_fraction_min"`
	PrefillOverDecodeMin float64 `yaml:"prefill_over_decode_min"`
	// SpecSpeedupMin is phase 7's effective decode over plain decode on
	// the same target, at controlled acceptance harness.GateAlpha.
	SpecSpeedupMin float64 `yaml:"spec_speedup_min"`
}

// LoadDir reads every profile in dir.
func LoadDir(dir string) ([]*Profile, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Profile
	for _, f := range files {
		p, err := Load(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no machine profiles in %s", dir)
	}
	return out, nil
}

// LoadFS reads every profile in a file system (the embedded ones).
func LoadFS(fsys fs.FS) ([]*Profile, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*Profile
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		p, err := Parse(data, n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Load reads one profile, strictly.
func Load(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// Parse decodes one profile.
func Parse(data []byte, path string) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("profile %s: %v", path, err)
	}
	if p.Name == "" || len(p.Targets) == 0 {
		return nil, fmt.Errorf("profile %s: name and targets are required", path)
	}
	for _, t := range p.Targets {
		if t.ModelShape == "" || t.DecodeBWFractionMin < 0 || t.DecodeBWFractionMin > 1 {
			return nil, fmt.Errorf("profile %s: every target needs model_shape, and decode_bw_fraction_min in 0..1", path)
		}
	}
	p.File = path
	return &p, nil
}

// Choose returns the named profile, or the first whose match fits the CPU
// brand, or the one named "generic".
func Choose(ps []*Profile, name, brand string) (*Profile, string, error) {
	if name != "" {
		for _, p := range ps {
			if p.Name == name {
				return p, "named on the command line", nil
			}
		}
		return nil, "", fmt.Errorf("no machine profile named %q", name)
	}
	for _, p := range ps {
		for _, s := range p.Match.BrandContains {
			if s != "" && strings.Contains(brand, s) {
				return p, fmt.Sprintf("CPU %q matches %q", brand, s), nil
			}
		}
	}
	for _, p := range ps {
		if p.Name == "generic" {
			return p, "no profile matches the CPU " + fmt.Sprintf("%q", brand), nil
		}
	}
	return nil, "", fmt.Errorf("no profile matches CPU %q and there is no generic profile", brand)
}

// For returns the targets that apply to a model shape ("" for GGUF files).
func (p *Profile) For(shape string) []Target {
	var out []Target
	for _, t := range p.Targets {
		if t.ModelShape == "*" || (shape != "" && t.ModelShape == shape) {
			out = append(out, t)
		}
	}
	return out
}

// Package profile reads machine profiles (configs/*.yaml): the targets a
// kind of machine should meet, chosen from the detected CPU unless named.
package profile

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"asdsl-bench/internal/yamlstrict"
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

// Target applies to models of one mock shape ("*": every model), or to
// every model that is what Model describes, mock or real file: a real
// Phi-4 Q4_K_M GGUF gets the Phi-4 targets.
type Target struct {
	ModelShape string `yaml:"model_shape"`
	Model      *Model `yaml:"model"`
	// Phases limits the target to some checkpoints (default: every phase
	// its kind of target applies to): the seed's ladder has a decode
	// target per phase.
	Phases []string `yaml:"phases"`
	// TTFTPrompt is the prompt length TTFTMsMax is meant for; a TTFT
	// target without one would judge a 512-token prompt by a chat's time.
	TTFTPrompt           int     `yaml:"ttft_prompt"`
	TTFTMsMax            float64 `yaml:"ttft_ms_max"`
	DecodeTPSMin         float64 `yaml:"decode_tps_min"`
	DecodeSpecTPSMin     float64 `yaml:"decode_spec_tps_min"`
	DecodeBWFractionMin  float64 `yaml:"decode_bw_fraction_min"`
	PrefillOverDecodeMin float64 `yaml:"prefill_over_decode_min"`
	// PrefillPeakFractionMin is prefill's multiply-adds per second as a
	// fraction of the int8 peak measured in the same run, from phase 3 on.
	PrefillPeakFractionMin float64 `yaml:"prefill_peak_fraction_min"`
	// TTFTOverGEMVLoopMin is phase 3's TTFT speed-up over phase 2's (the
	// prompt as a tiled GEMM against a loop of GEMVs), same bench.
	TTFTOverGEMVLoopMin float64 `yaml:"ttft_over_gemv_loop_min"`
	// SpecSpeedupMin is phase 7's effective decode over plain decode on
	// the same target, at controlled acceptance harness.GateAlpha.
	SpecSpeedupMin float64 `yaml:"spec_speedup_min"`
}

// Model describes a model by what it is, from its GGUF metadata. Zero
// fields match anything.
type Model struct {
	Arch     string     `yaml:"arch"`      // general.architecture: llama, phi3
	Layers   int        `yaml:"layers"`    // block count
	Embd     int        `yaml:"embd"`      // embedding width
	ParamsB  [2]float64 `yaml:"params_b"`  // parameter count range, billions
	FileType string     `yaml:"file_type"` // q4_k_m, q8_0, ... (general.file_type)
}

// Identity is what a benchmarked model is.
type Identity struct {
	Shape    string `json:"shape,omitempty"` // mock shape, "" for a file
	Arch     string `json:"arch"`
	Layers   int    `json:"layers"`
	Embd     int    `json:"embd"`
	Params   int64  `json:"params"`
	FileType string `json:"file_type"`
}

// Matches reports whether a model is what m describes.
func (m *Model) Matches(id Identity) bool {
	p := float64(id.Params) / 1e9
	return (m.Arch == "" || strings.EqualFold(m.Arch, id.Arch)) &&
		(m.Layers == 0 || m.Layers == id.Layers) &&
		(m.Embd == 0 || m.Embd == id.Embd) &&
		(m.ParamsB == [2]float64{} || (p >= m.ParamsB[0] && p <= m.ParamsB[1])) &&
		(m.FileType == "" || strings.EqualFold(m.FileType, id.FileType))
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
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("profile %s: %v", path, err)
	}
	if err := yamlstrict.Integers(&root, reflect.TypeOf(Profile{}), path); err != nil {
		return nil, fmt.Errorf("profile %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("profile %s: %v", path, err)
	}
	if p.Name == "" || len(p.Targets) == 0 {
		return nil, fmt.Errorf("profile %s: name and targets are required", path)
	}
	for i, t := range p.Targets {
		if (t.ModelShape == "") == (t.Model == nil) {
			return nil, fmt.Errorf("profile %s: target %d needs exactly one of model_shape and model", path, i)
		}
		if t.DecodeBWFractionMin < 0 || t.DecodeBWFractionMin > 1 {
			return nil, fmt.Errorf("profile %s: target %d: decode_bw_fraction_min must be in 0..1", path, i)
		}
		if t.TTFTMsMax > 0 && t.TTFTPrompt <= 0 {
			return nil, fmt.Errorf("profile %s: target %d: ttft_ms_max needs ttft_prompt (the prompt length it is for)", path, i)
		}
		if m := t.Model; m != nil && (m.ParamsB[0] < 0 || m.ParamsB[1] < m.ParamsB[0]) {
			return nil, fmt.Errorf("profile %s: target %d: params_b must be [low, high] billions", path, i)
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

// For returns the targets that apply to a model: by its mock shape's
// name, or by what it is.
func (p *Profile) For(id Identity) []Target {
	var out []Target
	for _, t := range p.Targets {
		switch {
		case t.Model != nil && t.Model.Matches(id):
			out = append(out, t)
		case t.ModelShape == "*" || (id.Shape != "" && t.ModelShape == id.Shape):
			out = append(out, t)
		}
	}
	return out
}

// InPhase reports whether the target applies to a phase.
func (t *Target) InPhase(phase string) bool {
	if len(t.Phases) == 0 {
		return true
	}
	for _, p := range t.Phases {
		if p == phase {
			return true
		}
	}
	return false
}

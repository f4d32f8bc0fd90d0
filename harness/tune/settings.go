// Package tune searches the engine's speed settings on this machine
// (asdsl-bench tune): the decode GEMV's prefetch distance and call
// split, the thread
// count, the interleaved (repacked) weight layout, the prompt GEMM's row
// tile, the batch size from which the prompt GEMM widens rows into
// panels and the panels' depth tile, and, given a draft model, the
// speculative draft length. The result is a small YAML file that bench
// and generate apply with --tuned.
package tune

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"asdsl-bench/engine"
	"asdsl-bench/internal/yamlstrict"
	"asdsl-bench/kernels"
)

// Settings are the values the tuner chooses.
type Settings struct {
	Threads        int  `yaml:"threads"`
	Repack         bool `yaml:"repack"`
	PrefetchBytes  int  `yaml:"prefetch_bytes"`
	R4CallBlocks   int  `yaml:"r4_call_blocks"` // kernels.Ops.R4CallBlocks; 0: whole rows; missing: the default
	TileRows       int  `yaml:"tile_rows"`
	PanelMinTokens int  `yaml:"panel_min_tokens"`
	PanelDepth     int  `yaml:"panel_depth"`            // super-blocks per panel depth tile; 0: whole rows
	DraftLength    int  `yaml:"draft_length,omitempty"` // 0: not tuned (no draft model)
}

// Defaults are the engine's built-in settings with the given thread
// count (the default is one per physical P-core).
func Defaults(threads int) Settings {
	t := engine.DefaultTiles()
	return Settings{Threads: threads, Repack: true, PrefetchBytes: kernels.DefaultPrefetch,
		R4CallBlocks: kernels.DefaultR4CallBlocks, TileRows: t.Rows, PanelMinTokens: t.PanelMinTokens, PanelDepth: t.K}
}

// Limits of a valid file: wide enough for any machine, narrow enough
// that a typo is caught rather than run.
const (
	maxThreads  = 1024
	maxPrefetch = 1 << 20
	maxCall     = 4096 // blocks: a million columns
	maxTileRows = 4096
	maxDraft    = 64
	maxDepth    = 4096 // super-blocks: a million columns
)

// Validate reports the first setting out of range.
func (s Settings) Validate() error {
	switch {
	case s.Threads < 1 || s.Threads > maxThreads:
		return fmt.Errorf("threads %d: want 1..%d", s.Threads, maxThreads)
	case s.PrefetchBytes < 0 || s.PrefetchBytes > maxPrefetch:
		return fmt.Errorf("prefetch_bytes %d: want 0..%d", s.PrefetchBytes, maxPrefetch)
	case s.R4CallBlocks < 0 || s.R4CallBlocks > maxCall:
		return fmt.Errorf("r4_call_blocks %d: want 0 (whole rows) or 1..%d blocks per call", s.R4CallBlocks, maxCall)
	case s.TileRows < 4 || s.TileRows > maxTileRows || s.TileRows%4 != 0:
		return fmt.Errorf("tile_rows %d: want a multiple of 4 in 4..%d (the kernels take rows four at a time)", s.TileRows, maxTileRows)
	case s.PanelMinTokens < 1:
		return fmt.Errorf("panel_min_tokens %d: want at least 1", s.PanelMinTokens)
	case s.PanelDepth < 0 || s.PanelDepth > maxDepth:
		return fmt.Errorf("panel_depth %d: want 0 (whole rows) or 1..%d super-blocks", s.PanelDepth, maxDepth)
	case s.DraftLength < 0 || s.DraftLength > maxDraft:
		return fmt.Errorf("draft_length %d: want 0 (not tuned) or 1..%d", s.DraftLength, maxDraft)
	}
	return nil
}

// Kernels is the kernel table these settings choose: the process's
// instruction set with the tuned prefetch distance and call split.
func (s Settings) Kernels() *kernels.Ops {
	ops, err := kernels.SelectTuned("", kernels.Tuning{Prefetch: s.PrefetchBytes, R4CallBlocks: s.R4CallBlocks})
	if err != nil {
		panic(err) // "" names the process's own table, which this CPU runs
	}
	return ops
}

// Tiles is the matmul blocking these settings choose.
func (s Settings) Tiles() engine.Tiles {
	return engine.Tiles{Rows: s.TileRows, Tokens: engine.DefaultTiles().Tokens, PanelMinTokens: s.PanelMinTokens, K: s.PanelDepth}
}

// SessionOptions are the settings as a session's options, for a context
// of ctx positions (0: the engine's default). Nothing process-wide
// changes: sessions with other settings may run beside it.
func (s Settings) SessionOptions(ctx int) engine.SessionOptions {
	return engine.SessionOptions{Context: ctx, Threads: s.Threads, Features: engine.Features{NoRepack: !s.Repack},
		Kernels: s.Kernels(), Tiles: s.Tiles()}
}

// File is what tune writes: the settings and where they were found.
type File struct {
	CPU      string `yaml:"cpu"`
	Model    string `yaml:"model"`
	Date     string `yaml:"date"`
	Settings `yaml:",inline"`
}

// Parse reads a settings file: unknown keys and out-of-range values are
// errors, and so is a file without the settings.
func Parse(data []byte) (File, error) {
	var f File
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return File{}, fmt.Errorf("tuned settings: %w", err)
	}
	if err := yamlstrict.Integers(&root, reflect.TypeOf(f), "tuned settings"); err != nil {
		return File{}, err
	}
	if missing := missingKeys(&root, requiredKeys); len(missing) > 0 {
		return File{}, fmt.Errorf("tuned settings: missing %s (a file tune writes has them all)", strings.Join(missing, ", "))
	}
	// Files from before the call split was tuned keep its default.
	f.R4CallBlocks = kernels.DefaultR4CallBlocks
	d := yaml.NewDecoder(bytes.NewReader(data))
	d.KnownFields(true)
	if err := d.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return File{}, fmt.Errorf("tuned settings: empty file")
		}
		return File{}, fmt.Errorf("tuned settings: %w", err)
	}
	if err := f.Validate(); err != nil {
		return File{}, fmt.Errorf("tuned settings: %w", err)
	}
	return f, nil
}

// Read parses the settings file at path.
func Read(path string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, err
	}
	f, err := Parse(data)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Write stores f at path, with a comment saying how to use it.
func (f File) Write(path string) error {
	data, err := yaml.Marshal(f)
	if err != nil {
		return err
	}
	head := "# asdsl-bench tune: settings measured on this CPU with this model.\n" +
		"# Use: asdsl-bench bench --tuned " + path + "  (or generate --tuned); flags given explicitly win.\n"
	return os.WriteFile(path, append([]byte(head), data...), 0o644)
}

// requiredKeys are the settings every file must give: a missing one
// would read as 0, which is out of range or (prefetch_bytes) silently
// means off. panel_depth may be missing (files from before it existed):
// 0 is its default, whole rows; so may r4_call_blocks, whose default
// Parse sets before decoding.
var requiredKeys = []string{"threads", "repack", "prefetch_bytes", "tile_rows", "panel_min_tokens"}

func missingKeys(root *yaml.Node, keys []string) []string {
	have := map[string]bool{}
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 && root.Content[0].Kind == yaml.MappingNode {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			have[m.Content[i].Value] = true
		}
	}
	var out []string
	for _, k := range keys {
		if !have[k] {
			out = append(out, k)
		}
	}
	return out
}

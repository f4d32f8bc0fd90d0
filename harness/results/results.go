// Package results stores harness runs (machine, commit, suite, raw
// samples), exports them in Go's benchmark format so stock benchstat
// reads them, and compares two runs with golang.org/x/perf's statistics.
package results

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"asdsl-bench/harness/gate"
	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/perplexity"
	"asdsl-bench/harness/profile"

	"asdsl-bench/internal/stats"
)

// Run is one invocation of the harness.
type Run struct {
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	Commit     string    `json:"commit"`
	Dirty      bool      `json:"dirty"`
	Suite      string    `json:"suite"`
	Profile    string    `json:"profile"`
	ProfileWhy string    `json:"profile_why"`
	Machine    Machine   `json:"machine"`
	Phases     []*Phase  `json:"phases"`
	Baseline   string    `json:"baseline,omitempty"`
	Deltas     []Delta   `json:"deltas,omitempty"`
	Passed     bool      `json:"passed"`
	// Inconclusive is set when a target was missed only by samples taken
	// while other processes loaded the host: neither met nor failed.
	Inconclusive bool `json:"inconclusive,omitempty"`
	// AB is the gate's alternated comparison with a baseline build, and
	// Verdict the gate's answer (pass, regression, inconclusive, fail).
	AB      *gate.Result `json:"ab,omitempty"`
	Verdict string       `json:"verdict,omitempty"`
	// BaselineNote says why the gate compared with no baseline build.
	BaselineNote string `json:"baseline_note,omitempty"`
}

// Machine is what the run was measured on.
type Machine struct {
	CPU      string   `json:"cpu"`
	Features []string `json:"features"`
	ISA      string   `json:"isa"`
	Topology string   `json:"topology"`
	Hybrid   bool     `json:"hybrid"` // P- and E-cores (or LP E-cores)
	// MemoryBytes is the physical memory (0: not recorded).
	MemoryBytes int64           `json:"memory_bytes,omitempty"`
	ReadGBs     map[int]float64 `json:"read_gbs"` // measured read bandwidth per thread count
	// ReadNotes says, per thread count, why a bandwidth figure still
	// disagreed with the others after it was measured again.
	ReadNotes map[int]string `json:"read_notes,omitempty"`
	// Int8GMACs is the int8 multiply-accumulate peak measured per thread
	// count (1e9 per second): prefill's roof, as read bandwidth is
	// decode's. Int8Instr names the instruction it was measured with.
	Int8GMACs map[int]float64 `json:"int8_gmacs,omitempty"`
	Int8Instr string          `json:"int8_instr,omitempty"`
}

// Phase is one checkpoint of the roadmap.
type Phase struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Implemented bool     `json:"implemented"`
	Missing     string   `json:"missing,omitempty"` // what has not landed
	Features    string   `json:"features"`
	Checks      []Check  `json:"checks"`
	Benches     []*Bench `json:"benches"`
	Gates       []Gate   `json:"gates"`
	Passed      bool     `json:"passed"`
	// Spec is phase 7's speculative decoding, per model with a draft.
	Spec []*SpecBench `json:"spec,omitempty"`
	// Formats is phase 1's comparison of the same model in F16, Q8_0 and
	// Q4_K_M: what the format buys.
	Formats []*FormatBench `json:"formats,omitempty"`
	// CacheKL is phase 5's accuracy cost at depth, per model: the Q8_0
	// cache with flash attention against the f32 cache.
	CacheKL []*CacheKLBench `json:"cache_kl,omitempty"`
	// Perplexity is phase 5's perplexity of each real model, per cache.
	Perplexity []*PerplexityBench `json:"perplexity,omitempty"`
	// ColdStart is phase 6's cold starts, per model.
	ColdStart []*ColdBench `json:"cold_start,omitempty"`
	// ReadGBs is the read bandwidth this phase's decode was judged
	// against, per thread count: measured again after its benches and
	// the best figure of the run so far (absent in older records: the
	// run's Machine.ReadGBs then).
	ReadGBs map[int]float64 `json:"read_gbs,omitempty"`
}

// Yardstick is the read bandwidth at threads that the phase's decode is
// judged against: its own when recorded, else the run's.
func (p *Phase) Yardstick(m Machine, threads int) float64 {
	if bw := p.ReadGBs[threads]; bw > 0 {
		return bw
	}
	return m.ReadGBs[threads]
}

// FormatBench is one model in every format.
type FormatBench struct {
	Model string      `json:"model"`
	Rows  []FormatRow `json:"rows"`
}

// FormatRow is one format: bytes of weights read per decoded token, the
// median decode speed, and the next-token distributions' mean KL and
// top-1 agreement against F16 over a 32-token prompt (0 for F16).
type FormatRow struct {
	Format        string  `json:"format"`
	BytesPerToken int64   `json:"bytes_per_token"`
	DecodeTPS     float64 `json:"decode_tps"`
	KLToF16       float64 `json:"kl_to_f16"`
	Top1ToF16     float64 `json:"top1_to_f16"`
}

// PerplexityBench is one real model's perplexity on a text, with the
// f32 cache and (where its heads fit) the Q8_0 cache with flash
// attention.
type PerplexityBench struct {
	Model  string             `json:"model"`
	File   string             `json:"file"`
	Ctx    int                `json:"ctx"`
	F32    *perplexity.Result `json:"f32"`
	Q8     *perplexity.Result `json:"q8_0,omitempty"`
	Q8Note string             `json:"q8_note,omitempty"` // why there is no Q8_0 figure
}

// CacheKLBench is one model's cache comparison at depth.
type CacheKLBench struct {
	Model  string           `json:"model"`
	Result *measure.CacheKL `json:"result"`
}

// ColdBench is one model's cold starts: every configuration, alternated.
type ColdBench struct {
	Model   string               `json:"model"`
	Prompt  int                  `json:"prompt"`
	Samples []measure.ColdSample `json:"samples"`
	Error   string               `json:"error,omitempty"` // why it could not be measured
}

// SpecBench is speculative decoding of one model with its draft, under
// controlled acceptance with measured costs (measure.Speculative).
type SpecBench struct {
	Model    string                   `json:"model"`
	Shape    string                   `json:"shape"`
	Draft    string                   `json:"draft"`
	Lookup   bool                     `json:"lookup,omitempty"` // draft-free: prompt lookup proposes
	Workload string                   `json:"workload"`
	Threads  int                      `json:"threads"`
	Prompt   int                      `json:"prompt"`
	Generate int                      `json:"generate"`
	Result   *measure.SpecMeasurement `json:"result"`
	Identity profile.Identity         `json:"identity"`
}

// At returns the result at an acceptance probability (nil if absent).
func (b *SpecBench) At(alpha float64) *measure.SpecResult {
	for i := range b.Result.Results {
		if math.Abs(b.Result.Results[i].Alpha-alpha) < 1e-9 {
			return &b.Result.Results[i]
		}
	}
	return nil
}

// Check is a correctness check (numerics, kernels against references).
type Check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

// Bench is one model × workload × thread count.
type Bench struct {
	Model    string `json:"model"`
	Shape    string `json:"shape"`
	Workload string `json:"workload"`
	Threads  int    `json:"threads"`
	Prompt   int    `json:"prompt"`
	Generate int    `json:"generate"`
	Depth    int    `json:"depth,omitempty"` // context filled before the prompt, untimed
	// MatmulMACs is one token's multiply-adds in the matrix products
	// (engine.Model.MatmulMACs): prefill's work per token.
	MatmulMACs int64           `json:"matmul_macs,omitempty"`
	Result     *measure.Result `json:"result"`
	Anchor     []AnchorResult  `json:"anchor,omitempty"`
	// OverLoop is, per round, the prompt's TTFT as a loop of GEMVs over
	// its TTFT as the phase's GEMM, the two measured side by side
	// (phase 3; empty elsewhere and in older records).
	OverLoop []float64 `json:"over_loop,omitempty"`
	// Identity is what the model is (from its GGUF metadata): profiles
	// choose their targets by it, so a real file gets its shape's targets.
	Identity profile.Identity `json:"identity"`
}

// AnchorResult is an external engine's figure on the same model.
type AnchorResult struct {
	Engine string  `json:"engine"`
	Test   string  `json:"test"`
	TPS    float64 `json:"tps"`
}

// Gate is a target check.
type Gate struct {
	Name   string  `json:"name"`
	Op     string  `json:"op"` // "<=" or ">="
	Target float64 `json:"target"`
	Value  float64 `json:"value"`
	Passed bool    `json:"passed"`
	// Inconclusive: missed, but some samples were taken while other
	// processes held more of the machine than the suite allows, so the
	// miss says nothing about the code (Why says how much).
	Inconclusive bool   `json:"inconclusive,omitempty"`
	Why          string `json:"why,omitempty"`
}

// Key names a bench within a run.
func (b *Bench) Key(phase string) string {
	return fmt.Sprintf("%s/model=%s/workload=%s/threads=%d", phase, b.Model, b.Workload, b.Threads)
}

// validate refuses a bench a comparison cannot use: no samples, or
// figures that no measurement gives (negative, NaN, infinite).
func (b *Bench) validate() error {
	if b.Result == nil || len(b.Result.Samples) == 0 {
		return fmt.Errorf("no samples")
	}
	for metric, xs := range b.Metrics() {
		for i, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				return fmt.Errorf("sample %d: %s is %v", i+1, metric, x)
			}
		}
	}
	return nil
}

// Metrics are the per-sample figures by Metric.Key (BenchMetrics says
// each one's unit and direction). The decode metrics exist only for
// benches that generate.
func (b *Bench) Metrics() map[string][]float64 {
	m := map[string][]float64{}
	if b.Result == nil {
		return m
	}
	add := func(x Metric, v float64) { m[x.Key] = append(m[x.Key], v) }
	for _, s := range b.Result.Samples {
		add(TTFT, s.TTFTms)
		add(PrefillTPS, s.PrefillTPS)
		if b.Generate > 0 {
			add(DecodeTPS, s.DecodeTPS)
			add(TokenP50, s.P50ms)
			add(TokenP90, s.P90ms)
			add(DecodeGBs, s.DecodeTPS*float64(b.DecodeBytes())/1e9)
		}
	}
	return m
}

// Median of one metric's samples (NaN when the bench lacks it).
func (b *Bench) Median(x Metric) float64 { return Median(b.Metrics()[x.Key]) }

// DecodeBytes is what one decoded token reads: every weight once, and
// the keys and values of every position before it (on average the
// depth, the prompt and half the generated tokens), which at depth is
// no longer negligible (TinyLlama's f32 cache: 45 KB per position).
func (b *Bench) DecodeBytes() int64 {
	if b.Result == nil {
		return 0
	}
	ctx := int64(b.Depth + b.Prompt + b.Generate/2)
	return b.Result.WeightBytes + ctx*b.Result.KVBytesPerToken
}

// Median of a sample; NaN for an empty one.
func Median(x []float64) float64 { return stats.Median(x) }

// Save writes the run as JSON and in Go's benchmark format under dir,
// each atomically (temp file + rename).
func Save(r *Run, dir string) (jsonPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := WriteBenchfmt(&b, r); err != nil {
		return "", err
	}
	// A record is never replaced: two runs with one id (which NewID makes
	// unlikely) would otherwise lose the first silently.
	jsonPath = filepath.Join(dir, r.ID+".json")
	if err := writeNew(jsonPath, data); err != nil {
		return "", err
	}
	return jsonPath, writeAtomic(filepath.Join(dir, r.ID+".bench"), []byte(b.String()))
}

// NewID names a run: its start time to the millisecond (so ids sort by
// time), a random part (so runs started in the same millisecond, on one
// machine or several writing one directory, differ) and the commit.
func NewID(start time.Time, commit string) string {
	var rnd [6]byte // 48 bits: 1000 runs in one millisecond collide with p ~ 2e-9
	rand.Read(rnd[:])
	short := commit
	if len(short) > 12 {
		short = short[:12]
	}
	if short == "" {
		short = "unknown"
	}
	return start.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(rnd[:]) + "-" + short
}

// Load reads a stored run.
func Load(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// Parse decodes a run record, refusing records that are not one.
func Parse(data []byte, name string) (*Run, error) {
	var r Run
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a run record: %w", name, err)
	}
	if r.ID == "" || r.Phases == nil {
		return nil, fmt.Errorf("%s: not a run record (no id or phases)", name)
	}
	for _, p := range r.Phases {
		if p == nil {
			return nil, fmt.Errorf("%s: empty phase entry", name)
		}
		for _, b := range p.Benches {
			if b == nil {
				return nil, fmt.Errorf("%s: empty bench entry in %s", name, p.Name)
			}
			if err := b.validate(); err != nil {
				return nil, fmt.Errorf("%s: %s bench %s: %w", name, p.Name, b.Key(p.Name), err)
			}
		}
	}
	return &r, nil
}

// List returns the stored runs in dir, oldest first.
func List(dir string) ([]*Run, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var runs []*Run
	for _, f := range files {
		r, err := Load(f)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Time.Before(runs[j].Time) })
	return runs, nil
}

// writeNew writes path atomically and only if it does not exist: the
// data goes to a temporary file that is then hard-linked to path, which
// fails rather than replaces (falling back to a checked rename where the
// file system has no hard links).
func writeNew(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists: not replacing another run's record: %w", path, fs.ErrExist)
		}
		if _, serr := os.Stat(path); serr == nil {
			return fmt.Errorf("%s already exists: not replacing another run's record: %w", path, fs.ErrExist)
		}
		return os.Rename(tmp, path)
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeTemp writes data to a hidden temporary file beside path.
func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	os.Chmod(f.Name(), 0o644)
	return f.Name(), nil
}

package kernels

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// Ops is one instruction set's kernels, in one table filled once per
// session (Select) or process (Active). Every kernel field has a pure-Go
// twin in this package under the same name (DotQ4KQ8K, GemvQ4KR4Q8K4x1,
// ...) that the SIMD versions match bit for bit.
//
// Names follow one rule, ggml's: op, weight type, weight layout,
// activation type, then rows x columns per call. GemvQ4KR4Q8K4x1 is a
// GEMV of Q4_K weights in the 4-row repacked layout (R4; no layout
// means GGUF's) against Q8_K activations, four rows by one column;
// GemmQ4KQ8K1x4 is one GGUF-layout row by four columns.
type Ops struct {
	// ISA names the table ("avx512", "avx2", "generic", ...).
	ISA string
	// Prefetch is the distance in bytes, ahead of the block being
	// multiplied, at which the one-stream GEMV kernels prefetch weights
	// (see DefaultPrefetch); the kernels below were built with it.
	Prefetch int
	// R4CallBlocks is the most blocks per kernel call the AVX-512
	// repacked GEMVs and 2-column GEMM take: longer row groups are split
	// into calls of near-equal length, which streamed faster (see
	// DefaultR4CallBlocks); 0 takes each row group in one call. The
	// results are the same either way, bit for bit.
	R4CallBlocks int
	// Int8Peak runs rounds of the table's own widest int8
	// multiply-accumulate instruction (twelve independent chains, no
	// loads) and returns the products done and the instruction's name:
	// the roof that the table's prompt kernels are reported against
	// (nil for generic). MeasureInt8Peak in harness/machine times it.
	Int8Peak func(rounds int) (macs int64, instr string)

	// ---- Dots: one row by one column, for every weight type; the
	// matmul paths fall back on them, attention's f32 cache uses DotF32
	// and AxpyF32. ----

	DotQ4KQ8K   func(w []BlockQ4K, a []BlockQ8K) float32
	DotQ5KQ8K   func(w []BlockQ5K, a []BlockQ8K) float32
	DotQ6KQ8K   func(w []BlockQ6K, a []BlockQ8K) float32
	DotQ8_0Q8_0 func(w []BlockQ8_0, a []BlockQ8_0) float32
	DotF32      func(w, a []float32) float32
	DotF16      func(w, a []uint16) float32
	DotBF16     func(w, a []uint16) float32
	AxpyF32     func(a float32, x, y []float32)

	// ---- Activation quantizers. ----

	// QuantizeRowQ8K quantizes activations for the K-quant dots; every
	// ISA's version is byte-identical to QuantizeRowQ8K.
	QuantizeRowQ8K func(x []float32, out []BlockQ8K)
	// QuantizeRowQ8_0 quantizes a KV-cache row or a query; every ISA's
	// version is byte-identical to QuantizeRowQ8_0.
	QuantizeRowQ8_0 func(x []float32, out []BlockQ8_0)

	// ---- Decode GEMV: four weight rows by one Q8_K column. ----

	// GemvQ4KQ8K4x1 multiplies four consecutive Q4_K rows (w holds
	// 4·len(a) blocks, row r at w[r·len(a):]) by one Q8_K column: the
	// decode GEMV's kernel. out[r] is bit-identical to DotQ4KQ8K on row r.
	GemvQ4KQ8K4x1 func(w []BlockQ4K, a []BlockQ8K, out *[4]float32)
	// GemvQ6KQ8K4x1 is the same for Q6_K rows (DotQ6KQ8K per row).
	GemvQ6KQ8K4x1 func(w []BlockQ6K, a []BlockQ8K, out *[4]float32)
	// GemvQ4KR4Q8K4x1 is the decode kernel on four rows repacked as
	// BlockQ4KR4 (len(w) == len(a)), its activations in the R4 order
	// (Q8KToR4Order, as every repacked Q4_K kernel's); out[r] equals
	// DotQ4KQ8K on row r against the activations in their own order.
	GemvQ4KR4Q8K4x1 func(w []BlockQ4KR4, a []BlockQ8K, out *[4]float32)
	// GemvQ6KR4Q8K4x1 is the decode kernel on four Q6_K rows repacked as
	// BlockQ6KR4, its activations in the Q6 R4 order (Q8KToQ6R4Order, as
	// every repacked Q6_K kernel's); out[r] equals DotQ6KQ8K on row r
	// against the activations in their own order. Nil where the ISA has
	// no such kernel (decode then reads the GGUF layout).
	GemvQ6KR4Q8K4x1 func(w []BlockQ6KR4, a []BlockQ8K, out *[4]float32)

	// ---- Prompt GEMM: one or four rows by four or eight Q8_K
	// columns. ----

	// GemmQ4KQ8K1x4 multiplies one Q4_K row by four Q8_K columns:
	// column c is a[c*stride : c*stride+len(w)]; out gets four results,
	// each bit-identical to DotQ4KQ8K on that column.
	GemmQ4KQ8K1x4 func(w []BlockQ4K, a []BlockQ8K, stride int, out *[4]float32)
	// GemmQ6KQ8K1x4 is the same for Q6_K rows.
	GemmQ6KQ8K1x4 func(w []BlockQ6K, a []BlockQ8K, stride int, out *[4]float32)
	// GemmQ5KQ8K1x4 is the same for Q5_K rows, each column equal to
	// DotQ5KQ8K (nil: the matmul takes the one-row dots).
	GemmQ5KQ8K1x4 func(w []BlockQ5K, a []BlockQ8K, stride int, out *[4]float32)
	// GemmQ4KR4Q8K4x4 multiplies four repacked rows by four Q8_K columns
	// in the R4 order (column c at a[c*stride:]): out[4r+c] equals
	// DotQ4KQ8K of row r and column c. Nil where no SIMD version beats
	// the unpacked path.
	GemmQ4KR4Q8K4x4 func(w []BlockQ4KR4, a []BlockQ8K, stride int, out *[16]float32)
	// GemmQ4KR4Q8K4x2 is the same for two columns (out[4r+c], c < 2;
	// columns 2 and 3 zero), nil where the 4×4 kernel is padded instead.
	GemmQ4KR4Q8K4x2 func(w []BlockQ4KR4, a []BlockQ8K, stride int, out *[16]float32)
	// GemmQ4KR4Q8K4x3: three columns (column 3 zero).
	GemmQ4KR4Q8K4x3 func(w []BlockQ4KR4, a []BlockQ8K, stride int, out *[16]float32)
	// GemmQ4KR4Q8K4x8 is the same for eight columns, written token-major:
	// row r against column c goes to out[c·ostride+r] (nil where the ISA
	// has no such kernel).
	GemmQ4KR4Q8K4x8 func(w []BlockQ4KR4, a []BlockQ8K, stride int, out []float32, ostride int)
	// GemmQ6KR4Q8K4x4 is GemmQ4KR4Q8K4x4 for repacked Q6_K rows (nil
	// without a kernel).
	GemmQ6KR4Q8K4x4 func(w []BlockQ6KR4, a []BlockQ8K, stride int, out *[16]float32)
	// GemmQ6KR4Q8K4x2 is GemmQ4KR4Q8K4x2 for repacked Q6_K rows.
	GemmQ6KR4Q8K4x2 func(w []BlockQ6KR4, a []BlockQ8K, stride int, out *[16]float32)
	// GemmQ6KR4Q8K4x3 is GemmQ4KR4Q8K4x3 for repacked Q6_K rows.
	GemmQ6KR4Q8K4x3 func(w []BlockQ6KR4, a []BlockQ8K, stride int, out *[16]float32)
	// GemmQ6KR4Q8K4x8 is GemmQ4KR4Q8K4x8 for repacked Q6_K rows.
	GemmQ6KR4Q8K4x8 func(w []BlockQ6KR4, a []BlockQ8K, stride int, out []float32, ostride int)
	// GemmQ4KR4Q8K4x{2,3,4}T and GemmQ6KR4Q8K4x{2,3,4}T are the 2- to
	// 4-column GEMMs stored token-major as the 8-column ones are, column
	// c's four rows at out[c·ostride:] and nothing else of out (nil where
	// the ISA has none; the engine then scatters the 4r+c ones' out).
	GemmQ4KR4Q8K4x2T, GemmQ4KR4Q8K4x3T, GemmQ4KR4Q8K4x4T func(w []BlockQ4KR4, a []BlockQ8K, stride int, out []float32, ostride int)
	GemmQ6KR4Q8K4x2T, GemmQ6KR4Q8K4x3T, GemmQ6KR4Q8K4x4T func(w []BlockQ6KR4, a []BlockQ8K, stride int, out []float32, ostride int)
	// UnpackQ4K expands a row for GemmQ4KUnpackedQ8K1x4, which multiplies
	// the unpacked row by four Q8_K columns (equal to DotQ4KQ8K per column).
	UnpackQ4K             func(blocks []BlockQ4K, u []UnpackedQ4K)
	GemmQ4KUnpackedQ8K1x4 func(u []UnpackedQ4K, a []BlockQ8K, stride int, out *[4]float32)
	// PreferUnpacked says the unpacked path is SIMD here and beats the
	// direct 4-column kernel (AVX-512: 7.5 ns to unpack a block, then
	// 15 ns per four columns, against 25 ns direct).
	PreferUnpacked bool

	// ---- Panels: 32 rows widened once, then multiplied by every
	// token of a large batch. ----

	// GemmPanelQ8K32x4 multiplies a widened 32-row Panel (super-blocks
	// k0..k0+nb) by four Q8_K columns, bit-identical to the K-quant dots
	// (GemmPanelQ8K32x4 in panel.go has the arguments). Nil where no SIMD
	// kernel exists: there a panel is not worth building and the prompt
	// uses the K-quant GEMMs.
	GemmPanelQ8K32x4 func(p *Panel, k0, nb int, a []BlockQ8K, stride int, out []float32, ostride int, acc bool)
	// PanelFromQ4K widens 32 Q4_K rows into p; every ISA's panel is
	// identical to PanelFromQ4K's.
	PanelFromQ4K func(p *Panel, src []BlockQ4K, nb int)
	// PanelFromQ4KR4 makes the same panel of 32 rows held repacked
	// (eight groups of nb blocks), so a prompt never reads the GGUF rows
	// of a matrix repacked at load.
	PanelFromQ4KR4 func(p *Panel, src []BlockQ4KR4, nb int)
	// PanelFromQ6KR4 is the same for repacked Q6_K rows.
	PanelFromQ6KR4 func(p *Panel, src []BlockQ6KR4, nb int)
	// PanelFromQ6K is the same for Q6_K rows.
	PanelFromQ6K func(p *Panel, src []BlockQ6K, nb int)

	// ---- Flash attention over the Q8_0 KV cache, and the FFN
	// activation (twins in attention.go). ----

	// DotQ8_0Rows: one quantized query against a tile of cached keys.
	DotQ8_0Rows func(dst []float32, k []BlockQ8_0, stride int, q []BlockQ8_0)
	// DotQ8_0RowsHeads: a GQA group's queries against the same keys.
	DotQ8_0RowsHeads func(dst []float32, n int, k []BlockQ8_0, stride int, q []BlockQ8_0, nq int)
	// DequantQ8_0Rows and AxpyF32Rows: the value tile widened once per
	// KV head, then weighted per query (attention.go).
	DequantQ8_0Rows func(dst []float32, v []BlockQ8_0, stride, rows, n int)
	AxpyF32Rows     func(out []float32, p []float32, v []float32)
	// AxpyF32RowsHeads: AxpyF32Rows for a GQA group's heads at once.
	AxpyF32RowsHeads func(out []float32, nh int, p []float32, v []float32)
	ExpSubF32        func(x []float32, m float32) float32
	ScaleMaxF32      func(x []float32, scale, m float32) float32
	// ExpSubF32Heads and ScaleMaxF32Heads: the two for a GQA group's
	// heads in one call.
	ExpSubF32Heads   func(x []float32, nh int, m, sums []float32)
	ScaleMaxF32Heads func(x []float32, nh int, scale float32, m, mt []float32)
	Hadamard         func(x []float32, n int)
	// SwiGLU is the FFN activation, gate = silu(gate)·up (attention.go).
	SwiGLU func(gate, up []float32)

	// ---- The seed's float Q4_K formulation. ----

	// FloatQ4K selects the seed's float formulation for Q4_K GEMV:
	// activations stay float32 and DotQ4KF32 multiplies them (a
	// demonstration ISA, never chosen by default; its numerics are not
	// llama.cpp's).
	FloatQ4K  bool
	DotQ4KF32 func(w []BlockQ4K, x, xsum []float32) float32
}

// GemmQ6KQ8K1x4 is the Go twin of the 4-column Q6_K kernel.
func GemmQ6KQ8K1x4(w []BlockQ6K, a []BlockQ8K, stride int, out *[4]float32) {
	DotColumns4(DotQ6KQ8K, w, a, stride, out)
}

// GemmQ5KQ8K1x4 is the Go twin of the 4-column Q5_K kernel.
func GemmQ5KQ8K1x4(w []BlockQ5K, a []BlockQ8K, stride int, out *[4]float32) {
	DotColumns4(DotQ5KQ8K, w, a, stride, out)
}

// GemmQ4KQ8K1x4 is the Go twin of the 4-column Q4_K kernel.
func GemmQ4KQ8K1x4(w []BlockQ4K, a []BlockQ8K, stride int, out *[4]float32) {
	DotColumns4(DotQ4KQ8K, w, a, stride, out)
}

// GemvQ4KQ8K4x1 is the Go twin of the 4-row Q4_K kernel.
func GemvQ4KQ8K4x1(w []BlockQ4K, a []BlockQ8K, out *[4]float32) {
	DotRows4(DotQ4KQ8K, w, a, out)
}

// GemvQ6KQ8K4x1 is the Go twin of the 4-row Q6_K kernel.
func GemvQ6KQ8K4x1(w []BlockQ6K, a []BlockQ8K, out *[4]float32) {
	DotRows4(DotQ6KQ8K, w, a, out)
}

// DotColumns4 is a 1-row × 4-column GEMM from a row·column dot: out[c]
// is dot of the row w and column c (a[c·stride:], len(w) blocks).
func DotColumns4[B any](dot func([]B, []BlockQ8K) float32, w []B, a []BlockQ8K, stride int, out *[4]float32) {
	for c := range out {
		out[c] = dot(w, a[c*stride:c*stride+len(w)])
	}
}

// DotRows4 is a 4-row GEMV from a row·column dot: w holds four rows of
// len(a) blocks, out[r] is dot of row r and a.
func DotRows4[B any](dot func([]B, []BlockQ8K) float32, w []B, a []BlockQ8K, out *[4]float32) {
	nb := len(a)
	for r := range out {
		out[r] = dot(w[r*nb:(r+1)*nb], a)
	}
}

// GenericOps are the pure-Go references; they run everywhere.
var GenericOps = Ops{
	ISA:         "generic",
	DotQ4KQ8K:   DotQ4KQ8K,
	DotQ5KQ8K:   DotQ5KQ8K,
	DotQ6KQ8K:   DotQ6KQ8K,
	DotQ8_0Q8_0: DotQ8_0Q8_0,
	DotF32:      DotF32,
	DotF16:      DotF16,
	DotBF16:     DotBF16,
	AxpyF32:     AxpyF32,

	DotQ8_0Rows:      DotQ8_0Rows,
	DotQ8_0RowsHeads: DotQ8_0RowsHeads,

	DequantQ8_0Rows:  DequantQ8_0Rows,
	AxpyF32Rows:      AxpyF32Rows,
	AxpyF32RowsHeads: AxpyF32RowsHeads,
	ExpSubF32:        ExpSubF32,
	ScaleMaxF32:      ScaleMaxF32,
	ExpSubF32Heads:   ExpSubF32Heads,
	ScaleMaxF32Heads: ScaleMaxF32Heads,
	Hadamard:         Hadamard,
	SwiGLU:           SwiGLU,

	QuantizeRowQ8_0: QuantizeRowQ8_0,
	PanelFromQ4K:    PanelFromQ4K,
	PanelFromQ4KR4:  PanelFromQ4KR4,
	PanelFromQ6KR4:  PanelFromQ6KR4,
	PanelFromQ6K:    PanelFromQ6K,

	GemmQ4KQ8K1x4:   GemmQ4KQ8K1x4,
	GemmQ6KQ8K1x4:   GemmQ6KQ8K1x4,
	GemmQ5KQ8K1x4:   GemmQ5KQ8K1x4,
	GemvQ4KQ8K4x1:   GemvQ4KQ8K4x1,
	GemvQ6KQ8K4x1:   GemvQ6KQ8K4x1,
	GemvQ4KR4Q8K4x1: GemvQ4KR4Q8K4x1,

	DotQ4KF32:             DotQ4KF32,
	UnpackQ4K:             UnpackQ4K,
	GemmQ4KUnpackedQ8K1x4: GemmQ4KUnpackedQ8K1x4,
	QuantizeRowQ8K:        QuantizeRowQ8K,
}

// isaTable lists, best first, the instruction sets this build has
// kernels for, each with a check of whether this CPU can run them. It is
// filled by the per-architecture files.
var isaTable []isaEntry

type isaEntry struct {
	name    string
	ok      func() (bool, string) // can this CPU run it, and if not why
	ops     func(t Tuning) Ops
	ranking int // higher is preferred
}

// active is the dispatch table, filled once at start: the best ISA the
// CPU supports, or the one named by ASDSL_ISA.
var active = GenericOps

// initErr records an ASDSL_ISA request that could not be honoured.
var initErr error

func init() {
	sort.SliceStable(isaTable, func(i, j int) bool { return isaTable[i].ranking > isaTable[j].ranking })
	if want := os.Getenv("ASDSL_ISA"); want != "" {
		initErr = Use(want)
		return
	}
	active = defaultChoice()
}

// defaultChoice is the best instruction set this CPU supports.
func defaultChoice() Ops {
	for _, e := range isaTable {
		if ok, _ := e.ok(); ok && e.ranking > 0 {
			return e.ops(DefaultTuning)
		}
	}
	return genericOps(DefaultTuning)
}

// genericOps is GenericOps recording a tuning (the Go kernels neither
// prefetch nor split their calls; the fields only report the setting).
func genericOps(t Tuning) Ops {
	o := GenericOps
	o.Prefetch, o.R4CallBlocks = t.Prefetch, t.R4CallBlocks
	return o
}

// Active returns the process's default kernels: the best ISA the CPU
// supports, or ASDSL_ISA's. Sessions take theirs from Select (engine
// SessionOptions.Kernels) and fall back to this one. Callers keep the
// pointer for the duration of an operation; Use must not run
// concurrently with kernels that read the default table.
func Active() *Ops { return &active }

// Select builds a kernel table of its own: the named instruction set
// ("" for the process default, Active's) with GEMV prefetch distance
// prefetch in bytes (negative: DefaultPrefetch) and the default call
// split. It refuses an ISA this CPU cannot run. Two tables never share
// state, so sessions built on different tables can run side by side.
func Select(name string, prefetch int) (*Ops, error) {
	return SelectTuned(name, Tuning{Prefetch: prefetch, R4CallBlocks: -1})
}

// Tuning is what a kernel table is built with beside its instruction
// set: the settings asdsl-bench tune searches.
type Tuning struct {
	Prefetch     int // Ops.Prefetch; negative: DefaultPrefetch
	R4CallBlocks int // Ops.R4CallBlocks; negative: DefaultR4CallBlocks
}

// DefaultTuning is the built-in tuning.
var DefaultTuning = Tuning{Prefetch: DefaultPrefetch, R4CallBlocks: DefaultR4CallBlocks}

// SelectTuned is Select with every tuning setting given.
func SelectTuned(name string, t Tuning) (*Ops, error) {
	if t.Prefetch < 0 {
		t.Prefetch = DefaultPrefetch
	}
	if t.R4CallBlocks < 0 {
		t.R4CallBlocks = DefaultR4CallBlocks
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		name = active.ISA
	}
	if name == "generic" {
		o := genericOps(t)
		return &o, nil
	}
	var names []string
	for _, e := range isaTable {
		names = append(names, e.name)
		if e.name != name {
			continue
		}
		if ok, why := e.ok(); !ok {
			return nil, fmt.Errorf("kernels %s: this CPU cannot run them (%s)", name, why)
		}
		o := e.ops(t)
		return &o, nil
	}
	return nil, fmt.Errorf("kernels %q: unknown instruction set (this build has: %s)", name, strings.Join(append(names, "generic"), ", "))
}

// InitError reports an ASDSL_ISA value that was refused at start (the
// generic kernels are used meanwhile). Commands should stop on it.
func InitError() error { return initErr }

// ISAs lists the instruction sets of this build with whether this CPU
// supports each, best first; generic is always last and supported.
func ISAs() []ISAStatus {
	var s []ISAStatus
	for _, e := range isaTable {
		ok, why := e.ok()
		s = append(s, ISAStatus{Name: e.name, Supported: ok, Reason: why})
	}
	return append(s, ISAStatus{Name: "generic", Supported: true})
}

// ISAStatus says whether an instruction set can run here.
type ISAStatus struct {
	Name      string
	Supported bool
	Reason    string // why not, when unsupported
}

// DefaultPrefetch is the GEMV prefetch distance in bytes when none is
// chosen. Decode streams every weight once from DRAM; one core keeps
// only so many misses in flight, so the requests must be issued well
// before the data is needed. 6 KiB was best for a 7B Q4_K_M model on
// this project's 2-core Xeon VM (1024: 1.7 t/s, 4096: 2.15, 6144: 2.2,
// 16384: 1.8 at 1 thread); `asdsl-bench tune` searches it per machine
// and bench/generate --tuned build their session's table with it.
const DefaultPrefetch = 6144

// DefaultR4CallBlocks is Ops.R4CallBlocks's default: calls of four to
// eight blocks streamed at the plain read rate on a Zen 5 core where
// whole rows of 16-43 blocks read 20% less (r4CallPlan).
const DefaultR4CallBlocks = 8

// Use selects an instruction set by name, refusing one the CPU lacks.
// It is meant for start-up and tests (ASDSL_ISA does the same).
func Use(name string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "generic" {
		active = genericOps(DefaultTuning)
		return nil
	}
	var names []string
	for _, e := range isaTable {
		names = append(names, e.name)
		if e.name != name {
			continue
		}
		if ok, why := e.ok(); !ok {
			return fmt.Errorf("ASDSL_ISA=%s: this CPU cannot run it (%s)", name, why)
		}
		active = e.ops(DefaultTuning)
		return nil
	}
	return fmt.Errorf("ASDSL_ISA=%s: unknown instruction set (this build has: %s)", name, strings.Join(append(names, "generic"), ", "))
}

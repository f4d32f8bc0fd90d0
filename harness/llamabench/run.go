package llamabench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/harness/hostload"
	"asdsl-bench/harness/machine"
	"asdsl-bench/harness/measure"
	"asdsl-bench/kernels"
)

// Config is a benchmark plan, as llama-bench's flags.
type Config struct {
	Model  string
	Prompt []int // -p: prompt lengths (0 skips)
	Gen    []int // -n: generated tokens (0 skips)
	// Depth is -d: tokens of context filled (untimed) before each
	// repetition of every test; nil or {0} means none.
	Depth   []int
	Threads []int // -t
	Reps    int   // -r
	Log     io.Writer
	// Features switch engine optimisations off (zero value: all on), to
	// measure what one is worth in a single binary.
	Features engine.Features
	// Kernels and Tiles are the sessions' kernel table and matmul
	// blocking (nil / zero: the engine's defaults; tune's --tuned file).
	Kernels *kernels.Ops
	Tiles   engine.Tiles
	// Int8Peak measures the int8 multiply-accumulate peak at each thread
	// count (about 0.2 s), and, when there are tg tests, the read
	// bandwidth (about 1 s), so the log can put prefill and decode beside
	// their roofs; bench does it for its human-readable output only.
	Int8Peak bool
	// Breakdown logs, after each tg test, where a generated token's
	// time went, step by step (engine.Breakdown over the timed
	// repetitions), beside the read bandwidth when Int8Peak measured it.
	Breakdown bool
	// Slowdown makes every timed repetition take that many times longer
	// by sleeping after it. Test-only: the release binary never sets it;
	// a build with the asdsl_testhook tag reads it from the environment,
	// so the gate's tests can prove a 2x slower binary is caught.
	Slowdown float64
}

// Run measures prompt processing (ppN: N tokens in one batch from an
// empty cache) and text generation (tgN: N tokens one at a time from an
// empty cache), each after a warm-up run, like llama-bench; with depths,
// each test also runs after d tokens of context ("tg128 @ d1920"), the
// context filled before every repetition and not timed.
func Run(c Config) ([]Result, error) {
	if c.Reps < 1 {
		return nil, fmt.Errorf("repetitions must be at least 1")
	}
	m, err := engine.Load(c.Model)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	base := baseResult(m, c.Model)
	rng := rand.New(rand.NewPCG(1, 2))
	peaks := map[int]machine.Int8Peak{}
	roofs := map[int]machine.Bandwidth{}
	// 0 threads is one per P-core: resolved here, so the roofs are
	// measured on as many threads as the sessions run.
	c.Threads = slices.Clone(c.Threads)
	for i, th := range c.Threads {
		c.Threads[i] = engine.SessionThreads(th)
	}
	var out []Result
	depths := c.Depth
	if len(depths) == 0 {
		depths = []int{0}
	}
	if c.Log != nil && c.Int8Peak && slices.ContainsFunc(c.Gen, func(n int) bool { return n > 0 }) {
		// The yardstick for decode, on the threads' own CPUs, every count
		// cross-checked against the others (machine.MeasureBandwidths).
		roofs = machine.MeasureBandwidths(c.Threads, 1<<30, 4, func(s string) { fmt.Fprintln(c.Log, s) })
	}
	for _, th := range c.Threads {
		need := 1
		for _, p := range c.Prompt {
			need = max(need, p)
		}
		for _, g := range c.Gen {
			need = max(need, g)
		}
		deepest := 0
		for _, d := range depths {
			if d < 0 {
				return nil, fmt.Errorf("depth %d: want >= 0", d)
			}
			deepest = max(deepest, d)
		}
		need += deepest
		if need > m.Config.NCtx {
			return nil, fmt.Errorf("test needs %d positions, the model's context is %d", need, m.Config.NCtx)
		}
		if c.Log != nil && c.Int8Peak {
			// The roof of the table the sessions run (ASDSL_ISA or
			// --tuned may pick a narrower one than the CPU's best).
			ops := c.Kernels
			if ops == nil {
				ops = kernels.Active()
			}
			// Best of six 50 ms runs: on a host whose neighbours take a
			// core now and then, the best of two 100 ms runs read 197
			// GMAC/s at 2 threads beside 386 a minute earlier, and the
			// prompt's fraction of it read 68% instead of 34%.
			peaks[th] = machine.MeasureInt8PeakOf(ops.Int8Peak, th, 50*time.Millisecond, 6)
		}
		s, err := m.NewSession(engine.SessionOptions{Context: need, Threads: th, Features: c.Features, Kernels: c.Kernels, Tiles: c.Tiles})
		if err != nil {
			return nil, err
		}
		tids := s.ThreadIDs()
		// The read bandwidth is measured again between a tg test's
		// repetitions, on as many threads: this host's bandwidth swings
		// between 36 and 75 GB/s at 2 threads within minutes, so a
		// figure taken before the tests can be minutes away from the
		// decode it is set against (it read 75 GB/s before a 7B decode
		// that streamed 56; in other minutes decode read faster than it).
		// It is made at the first tg repetition: a run without tg tests
		// does not fault in its 1 GiB or start its threads.
		var side *machine.Reader
		_, sideRead := roofs[th]
		closeAll := func() {
			s.Close()
			if side != nil {
				side.Close()
			}
		}
		run := func(nPrompt, nGen, depth int) error {
			tokens := make([]int32, max(nPrompt, nGen))
			for i := range tokens {
				tokens[i] = int32(rng.IntN(m.Config.NVocab))
			}
			context := make([]int32, depth)
			for i := range context {
				context[i] = int32(rng.IntN(m.Config.NVocab))
			}
			var bd *engine.Breakdown // set for the timed repetitions of a tg test
			lost := hostload.NewLostClock(tids)
			once := func() (time.Duration, error) {
				s.Reset()
				if depth > 0 {
					if _, err := s.Eval(context, false); err != nil {
						return 0, err
					}
				}
				lost.Restart()
				t0 := time.Now()
				if nPrompt > 0 {
					if _, err := s.Eval(tokens[:nPrompt], false); err != nil {
						return 0, err
					}
				}
				if bd != nil && nPrompt == 0 {
					s.SetBreakdown(bd)
				}
				for i := 0; i < nGen; i++ {
					if _, err := s.Eval(tokens[i:i+1], false); err != nil {
						s.SetBreakdown(nil)
						return 0, err
					}
				}
				d := time.Since(t0)
				s.SetBreakdown(nil)
				if c.Slowdown > 1 {
					d += measure.Spin(time.Duration(float64(d) * (c.Slowdown - 1)))
				}
				return d, nil
			}
			if _, err := once(); err != nil { // warm-up: page in weights, size buffers
				return err
			}
			r := base
			r.NThreads, r.NPrompt, r.NGen, r.NDepth = th, nPrompt, nGen, depth
			describeSession(&r, s, nPrompt)
			r.TestTime = time.Now().UTC().Format(time.RFC3339)
			if c.Breakdown && nPrompt == 0 {
				bd = &engine.Breakdown{}
			}
			var ns []int64
			var lostShares []float64
			var beside besideRead
			for i := 0; i < c.Reps; i++ {
				d, err := once()
				if err != nil {
					return err
				}
				ns = append(ns, d.Nanoseconds())
				lostShares = append(lostShares, lost.Share(d))
				if sideRead && nPrompt == 0 {
					if side == nil {
						side = machine.NewReader(th, 1<<30)
					}
					s.Rest() // the session's helpers would spin through the pass
					beside.add(side.PassEach())
				}
			}
			r.SetSamples(ns, nPrompt+nGen)
			r.SamplesLost = lostShares
			if c.Log != nil {
				fmt.Fprintf(c.Log, "%s t=%d: %.2f ± %.2f t/s%s\n", r.Test(), th, r.AvgTs, r.StddevTs, roofNote(m, th, nPrompt, nGen, r.AvgTs, peaks, roofs, beside))
				if bd != nil {
					var total int64
					for _, n := range ns {
						total += n
					}
					writeBreakdown(c.Log, bd, time.Duration(total/int64(len(ns)*nGen)), beside.or(roofs[th].ReadGBs))
				}
			}
			out = append(out, r)
			return nil
		}
		for _, d := range depths {
			for _, p := range c.Prompt {
				if p > 0 {
					if err := run(p, 0, d); err != nil {
						closeAll()
						return nil, err
					}
				}
			}
			for _, g := range c.Gen {
				if g > 0 {
					if err := run(0, g, d); err != nil {
						closeAll()
						return nil, err
					}
				}
			}
		}
		closeAll()
	}
	return out, nil
}

// besideRead is the read bandwidth measured between a tg test's
// repetitions: one pass of each read pattern after each repetition, the
// best kept.
type besideRead struct {
	gbs    float64
	passes int
}

func (b *besideRead) add(gbs float64) {
	b.gbs = max(b.gbs, gbs)
	b.passes++
}

// or is the figure, or def when none was taken.
func (b besideRead) or(def float64) float64 {
	if b.passes == 0 {
		return def
	}
	return b.gbs
}

func baseResult(m *engine.Model, path string) Result {
	var size int64
	for _, t := range m.File.Tensors {
		size += int64(t.Size)
	}
	params := m.Params()
	ft, _ := m.File.Meta.UintOr("general.file_type", 0)
	return Result{
		BuildCommit: "asdsl-bench", CPUInfo: machine.DetectCPU().Brand, Backends: "CPU",
		ModelFile: filepath.Base(path), ModelType: fmt.Sprintf("%s %s %s", m.Config.Arch, sizeLabel(params), fileTypeName(ft)),
		ModelSize: size, ModelParams: params, NGPULayers: 0, SplitMode: "layer", TensorSplit: "0.00", UseMmap: true,
	}
}

// describeSession records what the session actually ran with, in
// llama-bench's terms: the KV cache type and flash attention, the batch
// (a prompt is evaluated as one batch of its full length, so n_batch and
// n_ubatch are the prompt length; 1 for generation), the CPUs the math
// threads are pinned to (cpu_mask, cpu_strict) and the thread count the
// default resolved to. poll is llama.cpp's busy-wait level (0-100); the
// pool's workers always spin briefly between ops and then park
// (pool.spinFor), llama.cpp's default behaviour, so it is always 50.
func describeSession(r *Result, s *engine.Session, nPrompt int) {
	r.TypeK, r.TypeV = s.CacheType(), s.CacheType()
	r.FlashAttn = 0
	if s.CacheType() == "q8_0" {
		r.FlashAttn = 1
	}
	r.NBatch, r.NUBatch = max(nPrompt, 1), max(nPrompt, 1)
	r.Poll = 50
	var mask uint64
	pinned := true
	ws := s.Workers()
	for _, w := range ws {
		if w.Pinned && w.CPU >= 0 && w.CPU < 64 {
			mask |= 1 << uint(w.CPU)
		} else {
			pinned = false
		}
	}
	r.CPUMask, r.CPUStrict = fmt.Sprintf("0x%x", mask), pinned && len(ws) > 0
	if r.NThreads == 0 {
		r.NThreads = len(ws)
	}
}

func sizeLabel(params int64) string {
	if params < 1e8 {
		return "?B"
	}
	return fmt.Sprintf("%.0fB", float64(params)/1e9)
}

// fileTypeName spells general.file_type as llama.cpp does.
func fileTypeName(ft uint64) string {
	names := map[uint64]string{0: "all F32", 1: "F16", 7: "Q8_0", 14: "Q4_K - Small", 15: "Q4_K - Medium", 18: "Q6_K", 32: "BF16"}
	if n, ok := names[ft]; ok {
		return n
	}
	return fmt.Sprintf("file type %d", ft)
}

// roofNote puts the figure of merit beside t/s (gpt-fast style): for
// decode, the weight bytes streamed per second and their fraction of the
// read bandwidth measured on the same threads between the repetitions
// (beside; the figure from before the tests where none was taken), with
// the one from before the tests for reference; for prefill, the matrix
// multiply-adds per second and their fraction of the int8 peak.
func roofNote(m *engine.Model, th, nPrompt, nGen int, ts float64, peaks map[int]machine.Int8Peak, roofs map[int]machine.Bandwidth, beside besideRead) string {
	if nPrompt == 0 {
		gbs := ts * float64(m.WeightBytes()) / 1e9
		bw := roofs[th]
		if bw.ReadGBs == 0 {
			return fmt.Sprintf(" = %.1f GB/s of weights", gbs)
		}
		read := beside.or(bw.ReadGBs)
		s := fmt.Sprintf(" = %.1f GB/s of weights, %.0f%% of the read bandwidth (%.1f GB/s, %d thread(s)", gbs, 100*gbs/read, read, th)
		if beside.passes > 0 {
			s += fmt.Sprintf(", read between the repetitions; %.1f before the tests)", bw.ReadGBs)
		} else {
			s += ")"
		}
		if !bw.Pinned {
			s += ", threads not pinned"
		}
		if bw.Suspect != "" {
			s += "; the bandwidth figure is suspect: " + bw.Suspect
		} else if gbs > read {
			s += "; decode read faster than the yardstick: the host's bandwidth changed between the two"
		}
		return s
	}
	gmacs := ts * float64(m.MatmulMACs()) / 1e9
	p := peaks[th]
	if p.Instr == "" || p.GMACs == 0 {
		return fmt.Sprintf(" = %.0f GMAC/s", gmacs)
	}
	return fmt.Sprintf(" = %.0f GMAC/s, %.0f%% of the int8 peak (%.0f GMAC/s, %s, %d thread(s))", gmacs, 100*gmacs/p.GMACs, p.GMACs, p.Instr, th)
}

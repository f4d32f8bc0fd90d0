package phases

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/quant"
	"asdsl-bench/engine/topology"
	"asdsl-bench/internal/numerics"
	"asdsl-bench/internal/shared"
	"asdsl-bench/kernels"
)

// Check is a correctness check run in a phase. It reports pass/fail and
// a one-line detail with the figures behind the verdict.
type Check struct {
	Name string
	Run  func(env *Env) (bool, string)
}

// Env is what checks may use.
type Env struct {
	KLMax float64 // bound for quantized golden files (0: 2e-4, with 3e-4 for llama-Q4_K_M)
}

// golden is a golden fixture's path (../shared's, or the checkout's
// testdata/ copy). Checks call needGolden first, whose error says where
// the fixtures were looked for.
func golden(name string) string {
	if p, err := shared.Golden(name); err == nil {
		return p
	}
	return name
}

// needGolden says why the golden fixtures cannot be read, or nil.
func needGolden() error {
	_, err := shared.Golden("llama-f32.gguf")
	return err
}

// goldenCheck: the engine against llama.cpp's logits on fixture models.
var goldenCheck = Check{Name: "logits match llama.cpp (golden fixtures)", Run: func(env *Env) (bool, string) {
	if err := needGolden(); err != nil {
		return false, err.Error()
	}
	cases := []struct {
		stem string
		max  float64
	}{{"llama-f32", 1e-5}, {"phi3-f32", 1e-5}, {"llama-Q8_0", 2e-4}, {"phi3-Q4_K_M", 2e-4}, {"llama-Q4_K_M", 3e-4}}
	ok := true
	var parts []string
	for _, c := range cases {
		bound := c.max
		if env.KLMax > 0 && c.max > 1e-5 {
			bound = env.KLMax
		}
		kl, top1, err := goldenKL(c.stem, "p64", engine.Features{NoFlash: true})
		if err != nil {
			return false, err.Error()
		}
		pass := kl <= bound && top1 >= 0.97
		ok = ok && pass
		parts = append(parts, fmt.Sprintf("%s KL %.2g top-1 %.0f%%", c.stem, kl, 100*top1))
	}
	return ok, strings.Join(parts, "; ")
}}

// goldenKL evaluates a fixture's prompt ("p64", "p512.kvq8fa", ...) with
// the engine configured as features say and returns the mean KL and top-1
// agreement to llama.cpp's logits.
func goldenKL(stem, prompt string, features engine.Features) (float64, float64, error) {
	m, err := engine.Load(golden(stem + ".gguf"))
	if err != nil {
		return 0, 0, err
	}
	defer m.Close()
	tokens, _, err := numerics.ReadGreedy(golden(stem + "." + prompt + ".greedy.txt"))
	if err != nil {
		return 0, 0, err
	}
	ref, err := numerics.ReadLogits(golden(stem + "." + prompt + ".logits.f32"))
	if err != nil {
		return 0, 0, err
	}
	s, err := m.NewSession(engine.SessionOptions{Context: len(tokens), Features: features})
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	got, err := s.Eval(tokens, true)
	if err != nil {
		return 0, 0, err
	}
	kl, top1 := numerics.KL(ref, got, m.Config.NVocab)
	return kl, top1, nil
}

// quantizerBytesCheck: our Q4_K_M and Q8_0 files are llama-quantize's.
var quantizerBytesCheck = Check{Name: "quantizer output byte-identical to llama-quantize", Run: func(*Env) (bool, string) {
	if err := needGolden(); err != nil {
		return false, err.Error()
	}
	var parts []string
	ok := true
	for _, c := range []struct {
		arch, ref string
		ft        quant.FileType
	}{{"llama", "Q4_K_M", quant.FileQ4_KM}, {"phi3", "Q4_K_M", quant.FileQ4_KM}, {"llama", "Q8_0", quant.FileQ8_0}} {
		in, err := gguf.Open(golden(c.arch + "-f32.gguf"))
		if err != nil {
			return false, err.Error()
		}
		var buf bytes.Buffer
		_, err = quant.Stream(in, &buf, quant.Options{Type: c.ft})
		in.Close()
		if err != nil {
			return false, err.Error()
		}
		want, err := os.ReadFile(golden(c.arch + "-" + c.ref + ".gguf"))
		if err != nil {
			return false, err.Error()
		}
		same := bytes.Equal(buf.Bytes(), want)
		ok = ok && same
		parts = append(parts, fmt.Sprintf("%s-%s %s", c.arch, c.ref, map[bool]string{true: "identical", false: "DIFFERENT"}[same]))
	}
	return ok, strings.Join(parts, ", ")
}}

// quantizerKLCheck: our Q4_K_M file is as close to the F32 model as
// llama.cpp's (within 5%).
var quantizerKLCheck = Check{Name: "Q4_K_M KL to F32 within 1.05x llama.cpp's", Run: func(*Env) (bool, string) {
	if err := needGolden(); err != nil {
		return false, err.Error()
	}
	var parts []string
	ok := true
	for _, arch := range []string{"llama", "phi3"} {
		in, err := gguf.Open(golden(arch + "-f32.gguf"))
		if err != nil {
			return false, err.Error()
		}
		var buf bytes.Buffer
		_, err = quant.Stream(in, &buf, quant.Options{Type: quant.FileQ4_KM})
		in.Close()
		if err != nil {
			return false, err.Error()
		}
		f, err := gguf.Parse(buf.Bytes())
		if err != nil {
			return false, err.Error()
		}
		m, err := engine.FromFile(f)
		if err != nil {
			return false, err.Error()
		}
		prompt, _, err := numerics.ReadGreedy(golden(arch + "-f32.p64.greedy.txt"))
		if err != nil {
			return false, err.Error()
		}
		s, err := m.NewSession(engine.SessionOptions{Context: len(prompt), Features: engine.Features{NoFlash: true}})
		if err != nil {
			return false, err.Error()
		}
		got, err := s.Eval(prompt, true)
		s.Close()
		if err != nil {
			return false, err.Error()
		}
		f32, err1 := numerics.ReadLogits(golden(arch + "-f32.p64.logits.f32"))
		theirs, err2 := numerics.ReadLogits(golden(arch + "-Q4_K_M.p64.logits.f32"))
		if err1 != nil || err2 != nil {
			return false, fmt.Sprint(err1, err2)
		}
		ours, _ := numerics.KL(f32, got, m.Config.NVocab)
		ref, _ := numerics.KL(f32, theirs, m.Config.NVocab)
		ok = ok && ours <= 1.05*ref
		parts = append(parts, fmt.Sprintf("%s ours %.4f llama.cpp %.4f", arch, ours, ref))
	}
	return ok, strings.Join(parts, "; ")
}}

// quantizerBoundsCheck: encode→decode error bounds on Gaussian and
// heavy-tailed blocks (half a quantization step, plus fp16 rounding).
var quantizerBoundsCheck = Check{Name: "Q4_K/Q6_K encode-decode error bounds", Run: func(*Env) (bool, string) {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 64*kernels.QK_K)
	for i := range x {
		v := float32(r.NormFloat64())
		if i%2 == 1 {
			v = v * v * v
		}
		x[i] = v
	}
	y := make([]float32, len(x))
	q4 := make([]kernels.BlockQ4K, len(x)/kernels.QK_K)
	kernels.QuantizeQ4K(x, q4)
	kernels.DequantQ4K(q4, y)
	worst4 := worstRatio(x, y, 15)
	q6 := make([]kernels.BlockQ6K, len(x)/kernels.QK_K)
	kernels.QuantizeQ6K(x, q6)
	kernels.DequantQ6K(q6, y)
	worst6 := worstRatio(x, y, 31)
	return worst4 <= 1.01 && worst6 <= 1.01, fmt.Sprintf("worst error / bound: Q4_K %.3f, Q6_K %.3f", worst4, worst6)
}}

// worstRatio is the largest |x−y| over a block's bound amax/levels.
func worstRatio(x, y []float32, levels float64) float64 {
	worst := 0.0
	for b := 0; b < len(x); b += kernels.QK_K {
		var amax float64
		for _, v := range x[b : b+kernels.QK_K] {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		for i := b; i < b+kernels.QK_K; i++ {
			worst = math.Max(worst, math.Abs(float64(x[i]-y[i]))/(amax/levels+1e-6))
		}
	}
	return worst
}

// kernelTwinCheck: every SIMD kernel the CPU can run equals its Go twin.
var kernelTwinCheck = Check{Name: "SIMD kernels equal their Go twins (every ISA here)", Run: func(*Env) (bool, string) {
	prev := kernels.Active().ISA
	defer kernels.Use(prev)
	r := rand.New(rand.NewPCG(5, 5))
	var tried []string
	for _, isa := range kernels.ISAs() {
		if !isa.Supported || isa.Name == "generic" {
			continue
		}
		if err := kernels.Use(isa.Name); err != nil {
			return false, err.Error()
		}
		o := kernels.Active()
		for _, nb := range []int{1, 3, 17, 43} {
			w4 := make([]kernels.BlockQ4K, nb)
			w6 := make([]kernels.BlockQ6K, nb)
			x := make([]float32, nb*kernels.QK_K)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			kernels.QuantizeQ4K(x, w4)
			kernels.QuantizeQ6K(x, w6)
			a := make([]kernels.BlockQ8K, 4*nb)
			for c := 0; c < 4; c++ {
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				kernels.QuantizeRowQ8K(x, a[c*nb:(c+1)*nb])
				q := make([]kernels.BlockQ8K, nb)
				o.QuantizeRowQ8K(x, q)
				for i := range q {
					if q[i] != a[c*nb+i] {
						return false, fmt.Sprintf("%s Q8_K quantizer differs from the Go twin at %d blocks", isa.Name, nb)
					}
				}
			}
			if o.DotQ4KQ8K(w4, a[:nb]) != kernels.DotQ4KQ8K(w4, a[:nb]) || o.DotQ6KQ8K(w6, a[:nb]) != kernels.DotQ6KQ8K(w6, a[:nb]) {
				return false, fmt.Sprintf("%s differs from the Go twin at %d blocks", isa.Name, nb)
			}
			var g1, g2 [4]float32
			o.GemmQ4KQ8Kx4(w4, a, nb, &g1)
			kernels.GemmQ4KQ8Kx4(w4, a, nb, &g2)
			if g1 != g2 {
				return false, fmt.Sprintf("%s GEMM differs from the Go twin at %d blocks", isa.Name, nb)
			}
			// The decode kernels: four weight rows against one column.
			r4 := make([]kernels.BlockQ4K, 4*nb)
			r6 := make([]kernels.BlockQ6K, 4*nb)
			for row := 0; row < 4; row++ {
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				kernels.QuantizeQ4K(x, r4[row*nb:(row+1)*nb])
				kernels.QuantizeQ6K(x, r6[row*nb:(row+1)*nb])
			}
			o.GemvQ4KQ8Kx4Rows(r4, a[:nb], &g1)
			kernels.GemvQ4KQ8Kx4Rows(r4, a[:nb], &g2)
			if g1 != g2 {
				return false, fmt.Sprintf("%s 4-row Q4_K GEMV differs from the Go twin at %d blocks", isa.Name, nb)
			}
			// Q8_0 and F32 rows (Q8_0 models, attention's q·k).
			q8w, q8a := make([]kernels.BlockQ8_0, 8*nb), make([]kernels.BlockQ8_0, 8*nb)
			kernels.QuantizeRowQ8_0(x, q8w)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			kernels.QuantizeRowQ8_0(x, q8a)
			if o.DotQ8_0Q8_0(q8w, q8a) != kernels.DotQ8_0Q8_0(q8w, q8a) {
				return false, fmt.Sprintf("%s Q8_0 dot differs from the Go twin at %d blocks", isa.Name, 8*nb)
			}
			// An odd length (not a multiple of 8) and a misaligned operand.
			f := x[:len(x)-nb]
			if o.DotF32(f[1:], f[:len(f)-1]) != kernels.DotF32(f[1:], f[:len(f)-1]) {
				return false, fmt.Sprintf("%s F32 dot differs from the Go twin at length %d", isa.Name, len(f)-1)
			}
			o.GemvQ6KQ8Kx4Rows(r6, a[:nb], &g1)
			kernels.GemvQ6KQ8Kx4Rows(r6, a[:nb], &g2)
			if g1 != g2 {
				return false, fmt.Sprintf("%s 4-row Q6_K GEMV differs from the Go twin at %d blocks", isa.Name, nb)
			}
		}
		tried = append(tried, isa.Name)
	}
	return true, "bit-identical: " + strings.Join(append(tried, "generic (reference)"), ", ")
}}

// promptPathsCheck: the tiled GEMM prefill gives the GEMV loop's logits.
// 203 tokens: past engine.DefaultTiles().PanelMinTokens, so where the ISA
// has the panel kernels the prompt's matmuls take them, with a 3-token
// tail.
var promptPathsCheck = Check{Name: "GEMM prefill logits equal the GEMV loop's", Run: func(*Env) (bool, string) {
	return sameLogits(203, false, engine.Features{NoFlash: true}, engine.Features{NoFlash: true, SequentialPrompt: true})
}}

// flashGoldenCheck: the Q8_0 cache with flash attention against
// llama.cpp's q8_0-cache, flash-attention logits (512-token prompts).
// Bounds as in engine/golden_test.go: positions agree to ~3e-6 except a
// few where the Q8_K rounding difference of the f32-cache runs lands.
var flashGoldenCheck = Check{Name: "q8_0 KV + flash attention logits match llama.cpp's (kvq8fa fixtures)", Run: func(*Env) (bool, string) {
	// The 512-token fixtures are not copied into testdata/.
	if _, err := shared.Dir(); err != nil {
		return false, "needs llama.cpp's 512-token q8_0-cache logits, in ../shared only: " + err.Error()
	}
	ok := true
	var parts []string
	for _, c := range []struct {
		stem  string
		bound float64
	}{{"llama-Q4_K_M", 3e-4}, {"phi3-Q4_K_M", 5e-4}} {
		kl, top1, err := goldenKL(c.stem, "p512.kvq8fa", engine.Features{})
		if err != nil {
			return false, err.Error()
		}
		ok = ok && kl <= c.bound && top1 >= 0.97
		parts = append(parts, fmt.Sprintf("%s KL %.2g (bound %.0e) top-1 %.1f%%", c.stem, kl, c.bound, 100*top1))
	}
	return ok, strings.Join(parts, "; ")
}}

// flashPathsCheck: with flash attention a batched prompt gives the
// logits of the same prompt fed one token at a time, bit for bit.
var flashPathsCheck = Check{Name: "flash-attention prefill logits equal token-by-token decode's", Run: func(*Env) (bool, string) {
	return sameLogits(0, false, engine.Features{}, engine.Features{SequentialPrompt: true})
}}

// topologyCheck: the P-core detection on recorded hybrid dumps, and
// pinning on this machine.
var topologyCheck = Check{Name: "P-core detection and pinning", Run: func(*Env) (bool, string) {
	var recorded []string // which CPUs each recorded hybrid's math threads would use
	dir, err := shared.Fixture("topologies", "topologies")
	if err != nil {
		return false, err.Error()
	}
	for _, c := range []struct {
		file  string
		parse func(string) (*topology.Topology, error)
		math  string
	}{
		{"i5-L16G7-lakefield.sysfs-topology.txt", topology.ParseSysfs, "4"},
		{"core-ultra-9-185H.lscpu-p.txt", topology.ParseLscpuParse, "0-1,3,6,8,10"},
		{"i7-1370P.cpuid-hwloc.txt", topology.ParseHwlocCPUID, "0,2,4,6,8,10"},
	} {
		raw, err := os.ReadFile(filepath.Join(dir, c.file))
		if err != nil {
			return false, err.Error()
		}
		body := string(raw)
		for strings.HasPrefix(body, "# ") {
			_, body, _ = strings.Cut(body, "\n")
		}
		t, err := c.parse(body)
		if err != nil {
			return false, fmt.Sprintf("%s: %v", c.file, err)
		}
		if got := topology.FormatList(t.MathThreads()); got != c.math {
			return false, fmt.Sprintf("%s: math threads %s, want %s", c.file, got, c.math)
		}
		recorded = append(recorded, strings.SplitN(c.file, ".", 2)[0]+" would use CPUs "+c.math)
	}
	// Pinning: the math threads start and each one that was given a CPU
	// is on it (a failed sched_setaffinity fails the check).
	live := topology.Detect()
	g, err := engine.NewGEMV(len(live.MathThreads()))
	if err != nil {
		return false, err.Error()
	}
	defer g.Close()
	var pinned []int
	for _, w := range g.Workers() {
		if w.CPU >= 0 && !w.Pinned {
			return false, fmt.Sprintf("worker %d not pinned to CPU %d: %s", w.Worker, w.CPU, w.Err)
		}
		if w.Pinned {
			pinned = append(pinned, w.CPU)
		}
	}
	where := "threads not pinned on this OS"
	if len(pinned) > 0 {
		where = "math threads pinned to CPUs " + topology.FormatList(pinned)
	}
	return true, fmt.Sprintf("here: %s; %s; recorded hybrids: %s", live.Summary(), where, strings.Join(recorded, ", "))
}}

// repackCheck: decode on the repacked rows gives the GGUF layout's
// logits bit for bit (golden llama-Q4_K_M, token by token).
var repackCheck = Check{Name: "repacked decode logits equal the GGUF layout's", Run: func(*Env) (bool, string) {
	if err := needGolden(); err != nil {
		return false, err.Error()
	}
	return sameLogits(16, true, engine.Features{NoRepack: true, NoPrefetch: true}, engine.Features{})
}}

// sameLogits evaluates the golden llama-Q4_K_M prompt (its first n
// tokens, from the 512-token prompt when n > 64; the 64-token one for
// n = 0) under two engine configurations, as one batch
// or token by token (decode), and reports whether every logit is equal.
func sameLogits(n int, tokenByToken bool, a, b engine.Features) (bool, string) {
	if err := needGolden(); err != nil {
		return false, err.Error()
	}
	m, err := engine.Load(golden("llama-Q4_K_M.gguf"))
	if err != nil {
		return false, err.Error()
	}
	defer m.Close()
	if n <= 0 {
		n = 64
	}
	prompt := fixturePrompt(n)
	eval := func(f engine.Features) ([]float32, error) {
		s, err := m.NewSession(engine.SessionOptions{Context: len(prompt), Features: f})
		if err != nil {
			return nil, err
		}
		defer s.Close()
		if !tokenByToken {
			lg, err := s.Eval(prompt, true)
			return append([]float32(nil), lg...), err
		}
		var all []float32
		for _, tok := range prompt {
			lg, err := s.Eval([]int32{tok}, false)
			if err != nil {
				return nil, err
			}
			all = append(all, lg...)
		}
		return all, nil
	}
	ref, err := eval(a)
	if err != nil {
		return false, err.Error()
	}
	got, err := eval(b)
	if err != nil {
		return false, err.Error()
	}
	for i := range ref {
		if got[i] != ref[i] {
			return false, fmt.Sprintf("logit %d of %d differs: %v against %v", i, len(ref), got[i], ref[i])
		}
	}
	path := ""
	if len(prompt) >= engine.DefaultTiles().PanelMinTokens && kernels.Active().GemmPanelQ8Kx4 != nil {
		path = ", prompt matmuls on panels"
	}
	return true, fmt.Sprintf("%d positions x %d logits identical (kernels %s%s)", len(prompt), m.Config.NVocab, kernels.Active().ISA, path)
}

// specGreedyCheck: greedy speculative decoding emits the target's own
// greedy tokens. Target: the golden llama-f32 model; draft: its Q4_K_M
// file (they agree often, not always, so both branches of the rule run).
var specGreedyCheck = Check{Name: "speculative greedy output equals plain greedy (f32 target, Q4_K_M draft)", Run: func(*Env) (bool, string) {
	if err := needGolden(); err != nil {
		return false, err.Error()
	}
	target, err := engine.Load(golden("llama-f32.gguf"))
	if err != nil {
		return false, err.Error()
	}
	defer target.Close()
	draft, err := engine.Load(golden("llama-Q4_K_M.gguf"))
	if err != nil {
		return false, err.Error()
	}
	defer draft.Close()
	prompt, _, err := numerics.ReadGreedy(golden("llama-f32.p64.greedy.txt"))
	if err != nil {
		return false, err.Error()
	}
	prompt = prompt[:16]
	const n, k = 48, 4
	greedy := engine.SamplerOptions{}
	plain, _ := target.NewSession(engine.SessionOptions{Context: 128})
	defer plain.Close()
	var want, got []int32
	if _, err := engine.Generate(plain, prompt, n, engine.NewSampler(greedy), -1, func(id int32) bool { want = append(want, id); return true }); err != nil {
		return false, err.Error()
	}
	ts, _ := target.NewSession(engine.SessionOptions{Context: 128})
	defer ts.Close()
	ds, _ := draft.NewSession(engine.SessionOptions{Context: 128})
	defer ds.Close()
	_, sp, err := engine.GenerateSpeculative(ts, ds, prompt, n, k, engine.NewSampler(greedy), -1, func(id int32) bool { got = append(got, id); return true })
	if err != nil {
		return false, err.Error()
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			return false, fmt.Sprintf("token %d differs from plain greedy decoding", i)
		}
	}
	return true, fmt.Sprintf("%d tokens identical; k=%d, %d rounds, %.0f%% of proposals accepted", n, k, sp.Rounds, 100*sp.AcceptRate())
}}

// specDistributionCheck: the acceptance rule turns draft proposals into
// tokens with the target's distribution (Monte Carlo, 200k trials on two
// distributions that disagree).
var specDistributionCheck = Check{Name: "speculative sampling keeps the target's distribution", Run: func(*Env) (bool, string) {
	p := []engine.Candidate{{ID: 0, P: 0.5}, {ID: 1, P: 0.3}, {ID: 2, P: 0.15}, {ID: 4, P: 0.05}}
	q := []engine.Candidate{{ID: 1, P: 0.6}, {ID: 0, P: 0.2}, {ID: 3, P: 0.15}, {ID: 2, P: 0.05}}
	smp := engine.NewSampler(engine.SamplerOptions{Temperature: 1, Seed: 5})
	const trials = 200000
	count := map[int32]int{}
	for i := 0; i < trials; i++ {
		_, y := engine.Verify(smp, p, q, smp.Draw(q))
		count[y]++
	}
	worst := 0.0
	for _, c := range append(p, engine.Candidate{ID: 3}) {
		f := float64(count[c.ID]) / trials
		se := math.Sqrt(c.P*(1-c.P)/trials) + 1e-9
		worst = math.Max(worst, math.Abs(f-c.P)/se)
	}
	return worst <= 5, fmt.Sprintf("%d trials: token frequencies within %.1f standard errors of the target's probabilities", trials, worst)
}}

// fixturePrompt is the golden fixtures' prompt of n tokens (their
// README): BOS, then a 32-bit linear congruential sequence mapped onto
// the non-special tokens. Generated, so a check needs no 512-token file.
func fixturePrompt(n int) []int32 {
	out := make([]int32, n)
	out[0] = 1
	s := uint32(12345)
	for i := 1; i < n; i++ {
		s = s*1103515245 + 12345
		out[i] = int32(3 + (s>>8)%1021)
	}
	return out
}

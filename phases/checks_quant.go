package phases

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/quant"
	"asdsl-bench/internal/numerics"
	"asdsl-bench/kernels"
)

// quantizerBytesCheck: our Q4_K_M and Q8_0 files are llama-quantize's.
var quantizerBytesCheck = Check{Name: "quantizer output byte-identical to llama-quantize", Run: func(env *Env) (string, error) {
	if err := needGolden(); err != nil {
		return "", err
	}
	var parts []string
	ok := true
	for _, c := range []struct {
		arch, ref string
		ft        quant.FileType
	}{{"llama", "Q4_K_M", quant.FileQ4_KM}, {"phi3", "Q4_K_M", quant.FileQ4_KM}, {"llama", "Q8_0", quant.FileQ8_0}} {
		in, err := gguf.Open(fixture(c.arch + "-f32.gguf"))
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		_, err = quant.Stream(in, &buf, quant.Options{Type: c.ft})
		in.Close()
		if err != nil {
			return "", err
		}
		want, err := os.ReadFile(fixture(c.arch + "-" + c.ref + ".gguf"))
		if err != nil {
			return "", err
		}
		same := bytes.Equal(buf.Bytes(), want)
		ok = ok && same
		parts = append(parts, fmt.Sprintf("%s-%s %s", c.arch, c.ref, map[bool]string{true: "identical", false: "DIFFERENT"}[same]))
	}
	return verdict(ok, strings.Join(parts, ", "))
}}

// quantizerKLCheck: our Q4_K_M file is as close to the F32 model as
// llama.cpp's (within 5%).
var quantizerKLCheck = Check{Name: "Q4_K_M KL to F32 within 1.05x llama.cpp's", Run: func(env *Env) (string, error) {
	if err := needGolden(); err != nil {
		return "", err
	}
	var parts []string
	ok := true
	for _, arch := range []string{"llama", "phi3"} {
		in, err := gguf.Open(fixture(arch + "-f32.gguf"))
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		_, err = quant.Stream(in, &buf, quant.Options{Type: quant.FileQ4_KM})
		in.Close()
		if err != nil {
			return "", err
		}
		f, err := gguf.Parse(buf.Bytes())
		if err != nil {
			return "", err
		}
		m, err := engine.FromFile(f)
		if err != nil {
			return "", err
		}
		prompt, _, err := numerics.ReadGreedy(fixture(arch + "-f32.p64.greedy.txt"))
		if err != nil {
			return "", err
		}
		s, err := m.NewSession(env.session(engine.SessionOptions{Context: len(prompt), Features: engine.Features{NoFlash: true}}))
		if err != nil {
			return "", err
		}
		got, err := s.Eval(prompt, true)
		s.Close()
		if err != nil {
			return "", err
		}
		f32, err1 := numerics.ReadLogits(fixture(arch + "-f32.p64.logits.f32"))
		theirs, err2 := numerics.ReadLogits(fixture(arch + "-Q4_K_M.p64.logits.f32"))
		if err1 != nil || err2 != nil {
			return fail(fmt.Sprint(err1, err2))
		}
		ours, _ := numerics.KL(f32, got, m.Config.NVocab)
		ref, _ := numerics.KL(f32, theirs, m.Config.NVocab)
		ok = ok && ours <= 1.05*ref
		parts = append(parts, fmt.Sprintf("%s ours %.4f llama.cpp %.4f", arch, ours, ref))
	}
	return verdict(ok, strings.Join(parts, "; "))
}}

// quantizerBoundsCheck: encode→decode error bounds on Gaussian and
// heavy-tailed blocks (half a quantization step, plus fp16 rounding).
var quantizerBoundsCheck = Check{Name: "Q4_K/Q6_K encode-decode error bounds", Run: func(env *Env) (string, error) {
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
	return verdict(worst4 <= 1.01 && worst6 <= 1.01, fmt.Sprintf("worst error / bound: Q4_K %.3f, Q6_K %.3f", worst4, worst6))
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

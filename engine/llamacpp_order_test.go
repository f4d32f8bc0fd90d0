package engine

import (
	"math"
	"path/filepath"
	"testing"

	"asdsl-bench/internal/golden"
	"asdsl-bench/internal/testutil"
	"asdsl-bench/kernels"
)

// This file pins down, to the bit, why llama-Q4_K_M sits at mean KL
// 2.8e-4 from llama.cpp's logits and not at 1e-13 like phi3-Q4_K_M.
// Emulations of the fixture build's own float order (an AVX-512 build:
// its exp is the AVX-512 flavour of ggml_v_expf; the AVX2 flavour
// reproduces only 88% of its SwiGLU outputs) are checked against
// llama.cpp's intermediate tensors, then swapped into the engine: with
// them the Q4_K_M fixtures drop to KL ~1e-8 (p64) and ~1e-6 (p512).
// What the engine would have to adopt is therefore exactly two things:
//   - plain attention in llama.cpp's order: K·q as ggml_vec_dot_f32
//     (four 16-lane accumulators per 64 values), the scale as a separate
//     multiply, softmax through ggml_v_expf in 16-value chunks summed in
//     float64, and the value sum as llamafile's sgemm over the
//     transposed cache (one 16-lane FMA accumulator per output);
//   - the Q4_K float step of the repacked q4_K_8x8 GEMM: one fused
//     multiply-add per pair of sub-blocks into separate scale and min
//     accumulators (llamaCppQ4KGemm), in every Q4_K kernel.
// Either alone does not help (attention alone raises p64 to 4.6e-4):
// the KL comes from a handful of Q8_K roundings that flip when any
// upstream value is one float step away.

// fma32 is float32's fused multiply-add, correctly rounded: the product
// is exact in float64, the sum is rounded to odd (so the final rounding
// to float32 cannot double-round).
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	s := float64(p + float64(c))
	bb := float64(s - p)
	e := (p - (s - bb)) + (float64(c) - bb)
	if e != 0 {
		bits := math.Float64bits(s)
		if bits&1 == 0 {
			if (e > 0) == (s > 0) {
				bits++
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}

// reduce16 is GCC's _mm512_reduce_add_ps: halves, quarters, then pairs.
func reduce16(x *[16]float32) float32 {
	var t8 [8]float32
	for i := range t8 {
		t8[i] = x[i+8] + x[i]
	}
	var t4 [4]float32
	for i := range t4 {
		t4[i] = t8[i+4] + t8[i]
	}
	return (t4[0] + t4[2]) + (t4[1] + t4[3])
}

// ggmlVecDotF32 is ggml_vec_dot_f32 on AVX-512: four 16-lane FMA
// accumulators per 64 values, folded (0+2)+(1+3), reduced; the rest
// added in float64.
func ggmlVecDotF32(x, y []float32) float32 {
	np := len(x) &^ 63
	var s [4][16]float32
	for i := 0; i < np; i += 64 {
		for j := range s {
			for l := range s[j] {
				s[j][l] = fma32(x[i+16*j+l], y[i+16*j+l], s[j][l])
			}
		}
	}
	for l := 0; l < 16; l++ {
		s[0][l] = (s[0][l] + s[2][l]) + (s[1][l] + s[3][l])
	}
	sum := float64(reduce16(&s[0]))
	for i := np; i < len(x); i++ {
		sum += float64(x[i] * y[i])
	}
	return float32(sum)
}

// sgemmDot is one output of llamafile's tinyBLAS on AVX-512: one 16-lane
// FMA accumulator, reduced at the end. Masked (zero) values past len(x)
// add nothing, so the padded cache of llama.cpp gives the same sum.
func sgemmDot(x, y []float32) float32 {
	var s [16]float32
	for i := range x {
		s[i%16] = fma32(x[i], y[i], s[i%16])
	}
	return reduce16(&s)
}

// ggmlExp is ggml_v_expf, AVX-512 flavour (the result scaled by 2^n
// exactly, as vscalefps does).
func ggmlExp(x float32) float32 {
	const r = 0x1.8p23
	z := fma32(x, 0x1.715476p+0, r)
	n := z - r
	b := fma32(-n, 0x1.7f7d1cp-20, fma32(-n, 0x1.62e4p-1, x))
	if math.Abs(float64(n)) > 192 {
		if n <= 0 {
			return 0
		}
		return float32(math.Inf(1))
	}
	u := b * b
	j := fma32(fma32(fma32(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fma32(0x1.555e66p-3, b, 0x1.fffdb6p-2)), u, fma32(0x1.ffffecp-1, b, 1))
	return float32(float64(j) * math.Pow(2, float64(n)))
}

// ggmlSoftmax is ggml_vec_soft_max_f32 (16-value chunks, each chunk's
// sum reduced in float32 and added in float64) and the scaling by the
// reciprocal that follows it.
func ggmlSoftmax(s []float32) {
	mx := float32(math.Inf(-1))
	for _, x := range s {
		mx = max(mx, x)
	}
	var sum float64
	for c := 0; c < len(s); c += 16 {
		var lanes [16]float32
		for l := 0; l < 16 && c+l < len(s); l++ {
			lanes[l] = ggmlExp(s[c+l] - mx)
			s[c+l] = lanes[l]
		}
		sum += float64(reduce16(&lanes))
	}
	inv := float32(1 / sum)
	for j := range s {
		s[j] *= inv
	}
}

// llamaOrderCache is the f32 cache with attention in llama.cpp's order.
type llamaOrderCache struct{ *f32Cache }

func (c llamaOrderCache) Attend(layer, kvh, pos0, T int, q, out []float32, qStride int, sc *attnScratch) {
	hd, d := c.cfg.HeadDim, c.cfg.KVDim()
	ks, vs := c.k[layer], c.v[layer]
	for t := 0; t < T; t++ {
		n := pos0 + t + 1
		for h := kvh * c.groupSz; h < (kvh+1)*c.groupSz; h++ {
			o := t*qStride + h*hd
			s := sc.scores[:n]
			for j := range s {
				s[j] = float32(ggmlVecDotF32(ks[j*d+kvh*hd:][:hd], q[o:o+hd]) * c.scale)
			}
			ggmlSoftmax(s)
			col := make([]float32, n)
			for i := 0; i < hd; i++ {
				for j := range col {
					col[j] = vs[j*d+kvh*hd+i]
				}
				out[o+i] = sgemmDot(col, s)
			}
		}
	}
}

// llamaCppQ4KOps is the generic table with llamaCppQ4KGemm behind every
// Q4_K entry (sessions must run it with NoRepack).
func llamaCppQ4KOps() *kernels.Ops {
	o, _ := kernels.Select("generic", -1)
	o.DotQ4KQ8K = llamaCppQ4KGemm
	o.GemmQ4KQ8K1x4 = func(w []kernels.BlockQ4K, a []kernels.BlockQ8K, stride int, out *[4]float32) {
		for c := range out {
			out[c] = llamaCppQ4KGemm(w, a[c*stride:c*stride+len(w)])
		}
	}
	o.GemvQ4KQ8K4x1 = func(w []kernels.BlockQ4K, a []kernels.BlockQ8K, out *[4]float32) {
		nb := len(a)
		for r := range out {
			out[r] = llamaCppQ4KGemm(w[r*nb:(r+1)*nb], a)
		}
	}
	return o
}

// Each emulation reproduces llama.cpp's layer-0 tensor bit for bit,
// from llama.cpp's own inputs.
func TestLlamaCppAttentionOrder(t *testing.T) {
	dir := testutil.SharedOnly(t, "llama.cpp's intermediate tensors")
	ref := map[string][]llamaTensor{}
	for _, x := range readIntermediates(t, filepath.Join(dir, "fixtures", "llamacpp-golden", "intermediates", "llama-Q4_K_M.p64.bin")) {
		ref[x.name] = append(ref[x.name], x)
	}
	const T, nh, nkv, hd, kvd = 64, 4, 2, 64, 128
	q := ref["Qcur-0"][2].data // after RoPE: [token][head][hd]
	k := ref["Kcur-0"][2].data
	v := ref["Vcur-0"][0].data // [token][kvd]
	kq, sm, kqv := ref["kq-0"][0].data, ref["kq_soft_max-0"][0].data, ref["kqv-0"][0].data
	if len(q) != T*nh*hd || len(k) != T*kvd || len(kq) != 256*T*nh || len(kqv) != hd*T*nh {
		t.Fatalf("unexpected tensor sizes")
	}
	scale := float32(1 / math.Sqrt(hd))
	var nKQ, okKQ, okSM, nKQV, okKQV int
	for h := 0; h < nh; h++ {
		g := h / (nh / nkv)
		for tk := 0; tk < T; tk++ {
			row := h*T*256 + tk*256
			s := make([]float32, tk+1)
			for j := range s {
				if ggmlVecDotF32(k[j*kvd+g*hd:][:hd], q[tk*nh*hd+h*hd:][:hd]) == kq[row+j] {
					okKQ++
				}
				nKQ++
				s[j] = float32(kq[row+j] * scale)
			}
			ggmlSoftmax(s)
			for j := range s {
				if s[j] == sm[row+j] {
					okSM++
				}
			}
			col := make([]float32, tk+1)
			for i := 0; i < hd; i++ {
				for j := range col {
					col[j] = v[j*kvd+g*hd+i]
				}
				if sgemmDot(col, sm[row:row+tk+1]) == kqv[h*T*hd+tk*hd+i] {
					okKQV++
				}
				nKQV++
			}
		}
	}
	t.Logf("identical to llama.cpp: K·q %d/%d, softmax %d/%d, value sums %d/%d", okKQ, nKQ, okSM, nKQ, okKQV, nKQV)
	if okKQ != nKQ || okSM != nKQ || okKQV != nKQV {
		t.Error("an emulation of llama.cpp's attention order no longer reproduces it: the explanation at the top of this file is wrong")
	}
}

// With both orders swapped in, the Q4_K_M fixtures (f32 cache) land
// within 1e-5 of llama.cpp's logits; with ours, 2e-4 to 3e-4.
func TestLlamaCppOrderClosesQ4KGap(t *testing.T) {
	testutil.SharedOnly(t, "llama.cpp's p512 fixtures")
	ops := llamaCppQ4KOps()
	for _, gc := range golden.Cases {
		if gc.Model != "llama-Q4_K_M" && gc.Model != "phi3-Q4_K_M" || gc.Prompt == "p512.kvq8fa" {
			continue
		}
		m, err := Load(testutil.Golden(t, gc.Model+".gguf"))
		if err != nil {
			t.Fatal(err)
		}
		stem := gc.Model + "." + gc.Prompt
		prompt, _ := readGreedy(t, testutil.Golden(t, stem+".greedy.txt"))
		ref := readLogits(t, testutil.Golden(t, stem+".logits.f32"))
		s, err := m.NewSession(SessionOptions{Context: len(prompt), Threads: 2, Features: Features{NoFlash: true, NoRepack: true}, Kernels: ops})
		if err != nil {
			t.Fatal(err)
		}
		s.cache = llamaOrderCache{s.cache.(*f32Cache)}
		got, err := s.Eval(prompt, true)
		if err != nil {
			t.Fatal(err)
		}
		kl, top1 := klStats(ref, got, m.Config.NVocab)
		t.Logf("%-20s mean KL %.3g, top-1 %.1f%%", stem, kl, 100*top1)
		if kl > 1e-4 {
			t.Errorf("%s: mean KL %.3g with llama.cpp's order, want < 1e-4", stem, kl)
		}
		s.Close()
		m.Close()
	}
}

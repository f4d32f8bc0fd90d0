package engine

import (
	"math"
	"path/filepath"
	"testing"

	"asdsl-bench/internal/golden"
	"asdsl-bench/internal/testutil"
	"asdsl-bench/kernels/llamaorder"
)

// This file pins down, to the bit, why llama-Q4_K_M sits at mean KL
// 2.8e-4 from llama.cpp's logits with the engine's kernels, and checks
// Features.LlamaCppOrder, which removes the cause. The emulations of the
// fixture build's own float order (kernels/llamaorder; an AVX-512 build:
// its exp is the AVX-512 flavour of ggml_v_expf, the AVX2 flavour
// reproduces only 88% of its SwiGLU outputs) are checked against
// llama.cpp's intermediate tensors; with them the Q4_K_M fixtures drop
// to KL ~1e-8 (p64) and ~1e-6 (p512). They differ from the engine's
// kernels in exactly two things:
//   - plain attention in llama.cpp's order: K·q as ggml_vec_dot_f32
//     (four 16-lane accumulators per 64 values), the scale as a separate
//     multiply, softmax through ggml_v_expf in 16-value chunks summed in
//     float64, and the value sum as llamafile's sgemm over the
//     transposed cache (one 16-lane FMA accumulator per output);
//   - the Q4_K float step of the repacked q4_K_8x8 GEMM: one fused
//     multiply-add per pair of sub-blocks into separate scale and min
//     accumulators (llamaorder.DotQ4KQ8K).
// Either alone does not help (attention alone raises p64 to 4.6e-4):
// the KL comes from a handful of Q8_K roundings that flip when any
// upstream value is one float step away.

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
				if llamaorder.DotF32(k[j*kvd+g*hd:][:hd], q[tk*nh*hd+h*hd:][:hd]) == kq[row+j] {
					okKQ++
				}
				nKQ++
				s[j] = float32(kq[row+j] * scale)
			}
			llamaorder.SoftMax(s)
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
				if llamaorder.SgemmDot(col, sm[row:row+tk+1]) == kqv[h*T*hd+tk*hd+i] {
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
		s, err := m.NewSession(SessionOptions{Context: len(prompt), Threads: 2, Features: Features{NoFlash: true, LlamaCppOrder: true}})
		if err != nil {
			t.Fatal(err)
		}
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

// Package llamaorder computes what the engine computes, in the float
// order of the llama.cpp build that made the golden fixtures (build
// 34af94cd9 / d32676d77, x86 with AVX-512), so that a run can match
// llama.cpp bit for bit instead of to within a rounding.
//
// Why it exists: the engine's kernels sum every Q4_K super-block in
// integers and round once per block; llama.cpp's repacked q4_K_8x8 GEMM
// rounds once per pair of sub-blocks, and its attention has orders of
// its own. The two agree on about half of the layer-0 projections and
// are one float step apart on the rest; a few of those steps flip a
// Q8_K rounding of the next layer's activations, and those flips are
// the whole of the engine's 2-4e-4 mean KL to llama.cpp's Q4_K_M logits
// (engine/llamacpp_order_test.go pins this to the bit on llama.cpp's
// intermediate tensors). Every function here is a scalar Go transcript
// of one llama.cpp routine, named after it; they are slow and only
// serve engine.Features.LlamaCppOrder.
package llamaorder

import (
	"math"

	"asdsl-bench/kernels"
)

// Ops is the generic kernel table with llama.cpp's Q4_K order (DotQ4KQ8K
// below) behind every Q4_K entry a GGUF-layout session calls: the
// session must not repack its rows (engine Features.LlamaCppOrder sees
// to it), and no panel or unpacked GEMM may run. prefetch is recorded
// as kernels.Select records it.
func Ops(prefetch int) *kernels.Ops {
	o, _ := kernels.Select("generic", prefetch)
	o.ISA = "generic, llama.cpp order"
	o.DotQ4KQ8K = DotQ4KQ8K
	o.GemmQ4KQ8K1x4 = func(w []kernels.BlockQ4K, a []kernels.BlockQ8K, stride int, out *[4]float32) {
		kernels.DotColumns4(DotQ4KQ8K, w, a, stride, out)
	}
	o.GemvQ4KQ8K4x1 = func(w []kernels.BlockQ4K, a []kernels.BlockQ8K, out *[4]float32) {
		kernels.DotRows4(DotQ4KQ8K, w, a, out)
	}
	o.GemvQ4KR4Q8K4x1, o.GemmQ4KR4Q8K4x4, o.GemmQ4KR4Q8K4x2, o.GemmQ4KR4Q8K4x3, o.GemmQ4KR4Q8K4x8 = nil, nil, nil, nil, nil
	o.GemmPanelQ8K32x4, o.PreferUnpacked, o.FloatQ4K = nil, false, false
	return o
}

// DotQ4KQ8K is one output of ggml_gemm_q4_K_8x8_q8_K (and its GEMV): per
// super-block, the integer sums of each pair of sub-blocks (scales, and
// mins times the Q8_K sums of 16) are converted to float and fused into
// two running sums, one for the scales and one for the mins, which are
// subtracted at the end.
func DotQ4KQ8K(w []kernels.BlockQ4K, a []kernels.BlockQ8K) float32 {
	var acc, accMin float32
	for i := range w {
		b, y := &w[i], &a[i]
		dd := kernels.FP16ToF32(b.D) * y.D
		dm := kernels.FP16ToF32(b.Dmin) * y.D
		for pair := 0; pair < 4; pair++ {
			var isum, msum int32
			for j := 2 * pair; j < 2*pair+2; j++ {
				sc, m := kernels.ScaleMinK4(j, &b.Scales)
				q := b.Qs[32*(j/2) : 32*(j/2)+32]
				shift := uint(4 * (j & 1))
				var s int32
				for l, x := range y.Qs[32*j : 32*j+32] {
					s += int32((q[l]>>shift)&0xF) * int32(x)
				}
				isum += int32(sc) * s
				msum += int32(m) * (int32(y.Bsums[2*j]) + int32(y.Bsums[2*j+1]))
			}
			acc = kernels.FMA32(float32(isum), dd, acc)
			accMin = kernels.FMA32(float32(msum), dm, accMin)
		}
	}
	return acc - accMin
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

// DotF32 is ggml_vec_dot_f32 on AVX-512 (plain attention's K·q): four
// 16-lane FMA accumulators per 64 values, folded (0+2)+(1+3), reduced;
// the rest added in float64.
func DotF32(x, y []float32) float32 {
	np := len(x) &^ 63
	var s [4][16]float32
	for i := 0; i < np; i += 64 {
		for j := range s {
			for l := range s[j] {
				s[j][l] = kernels.FMA32(x[i+16*j+l], y[i+16*j+l], s[j][l])
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

// SgemmDot is one output of llamafile's tinyBLAS on AVX-512 (plain
// attention's weighted sum of values, over the transposed cache): one
// 16-lane FMA accumulator, reduced at the end. Values past len(x) would
// add zeros, so llama.cpp's padded cache gives the same sum.
func SgemmDot(x, y []float32) float32 {
	var s [16]float32
	for i := range x {
		s[i%16] = kernels.FMA32(x[i], y[i], s[i%16])
	}
	return reduce16(&s)
}

// Exp is ggml_v_expf, AVX-512 flavour (the result scaled by 2^n exactly,
// as vscalefps does). The AVX2 flavour differs in the last bit on about
// one SwiGLU output in eight.
func Exp(x float32) float32 {
	const r = 0x1.8p23
	z := kernels.FMA32(x, 0x1.715476p+0, r)
	n := z - r
	b := kernels.FMA32(-n, 0x1.7f7d1cp-20, kernels.FMA32(-n, 0x1.62e4p-1, x))
	if math.Abs(float64(n)) > 192 {
		if n <= 0 {
			return 0
		}
		return float32(math.Inf(1))
	}
	u := b * b
	j := kernels.FMA32(kernels.FMA32(kernels.FMA32(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, kernels.FMA32(0x1.555e66p-3, b, 0x1.fffdb6p-2)), u, kernels.FMA32(0x1.ffffecp-1, b, 1))
	return float32(float64(j) * math.Pow(2, float64(n)))
}

// SoftMax is ggml_vec_soft_max_f32 (the maximum subtracted, Exp in
// 16-value chunks, each chunk's sum reduced in float32 and added in
// float64) and the scaling by the reciprocal sum that follows it.
func SoftMax(s []float32) {
	mx := float32(math.Inf(-1))
	for _, x := range s {
		mx = max(mx, x)
	}
	var sum float64
	for c := 0; c < len(s); c += 16 {
		var lanes [16]float32
		for l := 0; l < 16 && c+l < len(s); l++ {
			lanes[l] = Exp(s[c+l] - mx)
			s[c+l] = lanes[l]
		}
		sum += float64(reduce16(&lanes))
	}
	inv := float32(1 / sum)
	for j := range s {
		s[j] *= inv
	}
}

// DotQ8_0 is ggml_vec_dot_q8_0_q8_0 on AVX2 and AVX-512 (flash
// attention's K·q over a q8_0 cache): per block, eight dword sums of
// four products, converted to float and fused into an 8-lane
// accumulator with the block's scale; then hsum_float_8.
func DotQ8_0(x, y []kernels.BlockQ8_0) float32 {
	var acc [8]float32
	for i := range x {
		d := kernels.FP16ToF32(x[i].D) * kernels.FP16ToF32(y[i].D)
		for l := range acc {
			var s int32
			for k := 4 * l; k < 4*l+4; k++ {
				s += int32(x[i].Qs[k]) * int32(y[i].Qs[k])
			}
			acc[l] = kernels.FMA32(d, float32(s), acc[l])
		}
	}
	var r [4]float32
	for l := range r {
		r[l] = acc[l+4] + acc[l]
	}
	return (r[0] + r[2]) + (r[1] + r[3])
}

// Expf is libm's expf, which flash attention calls once per key: the
// float64 exponential rounded to float32 (glibc's expf is within 0.502
// ulp, so the two differ only on rare halfway cases).
func Expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// FlashAttend is one query of ggml_compute_forward_flash_attn_ext_f16
// (the one-chunk path a q8_0 cache takes) over keys and values 0..n-1,
// q already quantized: per key, the score, a running maximum M and sum
// S, the accumulator rescaled when M rises (ggml_vec_scale_f32) and the
// dequantized value fused in (ggml_vec_mad_f32); finally out /= S.
// key(j) and value(j) return position j's blocks; v32 is scratch of
// len(out).
func FlashAttend(q []kernels.BlockQ8_0, n int, key, value func(j int) []kernels.BlockQ8_0, scale float32, out, v32 []float32) {
	clear(out)
	M, S := float32(math.Inf(-1)), float32(0)
	for j := 0; j < n; j++ {
		s := DotQ8_0(key(j), q) * scale
		ms, vs := float32(1), float32(1)
		if s > M {
			mold := M
			M = s
			ms = Expf(mold - M)
			for d := range out {
				out[d] *= ms
			}
		} else {
			vs = Expf(s - M)
		}
		for b, blk := range value(j) {
			d := kernels.FP16ToF32(blk.D)
			for l, x := range blk.Qs {
				v32[32*b+l] = float32(x) * d
			}
		}
		for d := range out {
			out[d] = kernels.FMA32(v32[d], vs, out[d])
		}
		S = S*ms + vs
	}
	inv := float32(0)
	if S != 0 {
		inv = 1 / S
	}
	for d := range out {
		out[d] *= inv
	}
}

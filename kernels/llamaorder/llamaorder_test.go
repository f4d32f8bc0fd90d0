package llamaorder

import (
	"math"
	"math/rand/v2"
	"testing"

	"asdsl-bench/kernels"
)

// These tests need no llama.cpp: they check that each transcript
// computes its routine's mathematics (another float order of the same
// sum). That each reproduces llama.cpp's bits is checked against its
// intermediate tensors in engine/llamacpp_order_test.go (../shared).

func randVec(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func TestDotQ4KQ8KIsTheSameSumRoundedElsewhere(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, nb := range []int{1, 3, 16} {
		w := make([]kernels.BlockQ4K, nb)
		kernels.QuantizeQ4K(randVec(r, nb*kernels.QK_K), w)
		a := make([]kernels.BlockQ8K, nb)
		kernels.QuantizeRowQ8K(randVec(r, nb*kernels.QK_K), a)
		got, want := DotQ4KQ8K(w, a), kernels.DotQ4KQ8K(w, a)
		// Both round a handful of times per block; the sums are O(10).
		if d := math.Abs(float64(got - want)); d > 1e-4*math.Max(1, math.Abs(float64(want))) {
			t.Errorf("nb=%d: %g, the engine's order %g", nb, got, want)
		}
	}
}

func TestDotsAgreeWithFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 17, 64, 100, 128} {
		x, y := randVec(r, n), randVec(r, n)
		var exact float64
		for i := range x {
			exact += float64(x[i]) * float64(y[i])
		}
		for name, got := range map[string]float32{"DotF32": DotF32(x, y), "SgemmDot": SgemmDot(x, y)} {
			if math.Abs(float64(got)-exact) > 1e-5*float64(n) {
				t.Errorf("%s n=%d: %g, exact %g", name, n, got, exact)
			}
		}
	}
	x, y := randVec(r, 128), randVec(r, 128)
	qx, qy := make([]kernels.BlockQ8_0, 4), make([]kernels.BlockQ8_0, 4)
	kernels.QuantizeRowQ8_0(x, qx)
	kernels.QuantizeRowQ8_0(y, qy)
	if got, want := DotQ8_0(qx, qy), kernels.DotQ8_0Q8_0(qx, qy); math.Abs(float64(got-want)) > 1e-4 {
		t.Errorf("DotQ8_0 %g, the engine's %g", got, want)
	}
}

func TestExpAndSoftMax(t *testing.T) {
	for x := float32(-80); x < 80; x += 0.37 {
		got, want := float64(Exp(x)), math.Exp(float64(x))
		if math.Abs(got-want) > 4e-7*want {
			t.Fatalf("Exp(%g) = %g, want %g", x, got, want)
		}
	}
	if Exp(-200) != 0 || !math.IsInf(float64(Exp(200)), 1) {
		t.Error("Exp does not saturate as ggml_v_expf does")
	}
	s := randVec(rand.New(rand.NewPCG(5, 6)), 37)
	SoftMax(s)
	var sum float64
	for _, p := range s {
		if p < 0 || p > 1 {
			t.Fatalf("softmax value %g", p)
		}
		sum += float64(p)
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("softmax sums to %g", sum)
	}
}

// FlashAttend equals attention computed in float64 from the same
// quantized keys and values, within float32 rounding.
func TestFlashAttendIsAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const hd, n = 64, 50
	keys, vals := make([][]kernels.BlockQ8_0, n), make([][]kernels.BlockQ8_0, n)
	for j := range keys {
		keys[j], vals[j] = make([]kernels.BlockQ8_0, hd/32), make([]kernels.BlockQ8_0, hd/32)
		kernels.QuantizeRowQ8_0(randVec(r, hd), keys[j])
		kernels.QuantizeRowQ8_0(randVec(r, hd), vals[j])
	}
	q := make([]kernels.BlockQ8_0, hd/32)
	kernels.QuantizeRowQ8_0(randVec(r, hd), q)
	const scale = 0.125
	out, v32 := make([]float32, hd), make([]float32, hd)
	FlashAttend(q, n, func(j int) []kernels.BlockQ8_0 { return keys[j] }, func(j int) []kernels.BlockQ8_0 { return vals[j] }, scale, out, v32)

	deq := func(b []kernels.BlockQ8_0) []float64 {
		x := make([]float64, 0, hd)
		for _, blk := range b {
			for _, v := range blk.Qs {
				x = append(x, float64(v)*float64(kernels.FP16ToF32(blk.D)))
			}
		}
		return x
	}
	qf := deq(q)
	w, mx := make([]float64, n), math.Inf(-1)
	for j := range w {
		for i, k := range deq(keys[j]) {
			w[j] += k * qf[i]
		}
		w[j] *= scale
		mx = math.Max(mx, w[j])
	}
	var sum float64
	for j := range w {
		w[j] = math.Exp(w[j] - mx)
		sum += w[j]
	}
	for i := 0; i < hd; i++ {
		var want float64
		for j := range w {
			want += w[j] / sum * deq(vals[j])[i]
		}
		if math.Abs(float64(out[i])-want) > 1e-5 {
			t.Fatalf("out[%d] = %g, want %g", i, out[i], want)
		}
	}
}

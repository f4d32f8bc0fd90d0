package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Decoded weights must stay finite and close to the input for blocks of
// every character: zero, constant, tiny (subnormal), large, heavy-tailed.
func TestWeightQuantizersOnEdgeBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	gen := map[string]func(i int) float32{
		"zero":     func(int) float32 { return 0 },
		"constant": func(int) float32 { return 0.75 },
		"negconst": func(int) float32 { return -2 },
		"tiny":     func(int) float32 { return float32(r.NormFloat64()) * 1e-30 },
		"large":    func(int) float32 { return float32(r.NormFloat64()) * 1e4 },
		"gaussian": func(int) float32 { return float32(r.NormFloat64()) },
		"heavy": func(int) float32 {
			v := float32(r.NormFloat64())
			return v * v * v
		},
	}
	for name, g := range gen {
		x := make([]float32, 2*QK_K)
		var amax float64
		for i := range x {
			x[i] = g(i)
			amax = math.Max(amax, math.Abs(float64(x[i])))
		}
		out := make([]float32, len(x))
		q4 := make([]BlockQ4K, 2)
		QuantizeQ4K(x, q4)
		DequantQ4K(q4, out)
		checkClose(t, name+"/q4k", x, out, amax/15*1.01+1e-6*amax)
		q5 := make([]BlockQ5K, 2)
		QuantizeQ5K(x, q5)
		DequantQ5K(q5, out)
		checkClose(t, name+"/q5k", x, out, amax/31*1.01+1e-6*amax)
		q6 := make([]BlockQ6K, 2)
		QuantizeQ6K(x, q6)
		DequantQ6K(q6, out)
		checkClose(t, name+"/q6k", x, out, amax/31*1.01+1e-6*amax)
		q8 := make([]BlockQ8_0, len(x)/QK8_0)
		QuantizeQ8_0(x, q8)
		DequantQ8_0(q8, out)
		checkClose(t, name+"/q8_0", x, out, amax/127*1.01+1e-3*amax)
	}
}

// checkClose allows tol plus an absolute 1e-6: fp16 block scales cannot
// go below 6e-8, so blocks of subnormal-sized weights decode to zero.
func checkClose(t *testing.T, name string, x, y []float32, tol float64) {
	t.Helper()
	tol += 1e-6
	for i := range x {
		if math.IsNaN(float64(y[i])) || math.IsInf(float64(y[i]), 0) {
			t.Fatalf("%s: element %d decodes to %v", name, i, y[i])
		}
		if d := math.Abs(float64(x[i] - y[i])); d > tol {
			t.Fatalf("%s: element %d: %v -> %v (error %g > %g)", name, i, x[i], y[i], d, tol)
		}
	}
}

// Re-quantizing decoded Q4_K data returns the same blocks.
func TestQ4KIdempotent(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := randF32(r, 8*QK_K)
	b1 := make([]BlockQ4K, 8)
	QuantizeQ4K(x, b1)
	y := make([]float32, len(x))
	DequantQ4K(b1, y)
	b2 := make([]BlockQ4K, 8)
	QuantizeQ4K(y, b2)
	z := make([]float32, len(x))
	DequantQ4K(b2, z)
	var maxd float64
	for i := range y {
		maxd = math.Max(maxd, math.Abs(float64(y[i]-z[i])))
	}
	t.Logf("max |dequant(q(dequant(q(x)))) - dequant(q(x))| = %g", maxd)
	if maxd > 1e-6 {
		t.Fatalf("re-quantizing changed the weights by up to %g", maxd)
	}
	if string(BytesOf(b1)) != string(BytesOf(b2)) {
		t.Fatal("re-quantizing decoded Q4_K data gave different blocks")
	}
}

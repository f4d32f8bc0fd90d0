package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randQ8_0Rows quantizes rows×nb blocks of normal values times scale,
// misaligned in memory, as the KV cache would hold them.
func randQ8_0Rows(r *rand.Rand, n int, scale float64) []BlockQ8_0 {
	x := make([]float32, n*QK8_0)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	b := make([]BlockQ8_0, n)
	QuantizeRowQ8_0(x, b)
	return misaligned(b, BlockQ8_0Size, AsQ8_0)
}

// The attention kernels against their twins, exactly, on odd numbers of
// rows, blocks and strides (a row holds every KV head, so stride > nb).
func TestAttentionKernelsMatchTwins(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, shape := range []struct{ rows, nb, stride int }{{1, 1, 1}, {3, 2, 5}, {7, 4, 4}, {17, 3, 9}, {64, 4, 32}, {129, 2, 6}, {5, 8, 9}} {
			k := randQ8_0Rows(r, (shape.rows-1)*shape.stride+shape.nb, 2)
			q := randQ8_0Rows(r, shape.nb, 1)
			got, want := make([]float32, shape.rows), make([]float32, shape.rows)
			o.DotQ8_0Rows(got, k, shape.stride, q)
			DotQ8_0Rows(want, k, shape.stride, q)
			for j := range got {
				if got[j] != want[j] || want[j] != DotQ8_0Q8_0(k[j*shape.stride:j*shape.stride+shape.nb], q) {
					t.Fatalf("DotQ8_0Rows %+v row %d: %v, twin %v", shape, j, got[j], want[j])
				}
			}
			n := shape.nb * QK8_0
			vf1, vf2 := make([]float32, shape.rows*n), make([]float32, shape.rows*n)
			o.DequantQ8_0Rows(vf1, k, shape.stride, shape.rows, n)
			DequantQ8_0Rows(vf2, k, shape.stride, shape.rows, n)
			for i := range vf1 {
				if vf1[i] != vf2[i] {
					t.Fatalf("DequantQ8_0Rows %+v at %d: %v, twin %v", shape, i, vf1[i], vf2[i])
				}
			}
			pw := randF32(r, shape.rows)
			a1 := randF32(r, n+1)[1:]
			a2 := append([]float32(nil), a1...)
			o.AxpyF32Rows(a1, pw, vf1)
			AxpyF32Rows(a2, pw, vf1)
			for i := range a1 {
				if a1[i] != a2[i] {
					t.Fatalf("AxpyF32Rows %+v at %d: %v, twin %v", shape, i, a1[i], a2[i])
				}
			}
		}
		for _, n := range []int{1, 7, 8, 9, 63, 64, 100, 513} {
			g := randF32(r, n+1)[1:]
			for i := range g {
				g[i] *= float32(1 + i%5*40) // up to ±160: both clamps
			}
			u := randF32(r, n)
			g2 := append([]float32(nil), g...)
			o.SwiGLU(g, u)
			SwiGLU(g2, u)
			for i := range g {
				if g[i] != g2[i] {
					t.Fatalf("SwiGLU n=%d at %d: %v, twin %v", n, i, g[i], g2[i])
				}
			}
			sx := randF32(r, n+1)[1:]
			sy := append([]float32(nil), sx...)
			if got, want := o.ScaleMaxF32(sx, 0.125, -3), ScaleMaxF32(sy, 0.125, -3); got != want {
				t.Fatalf("ScaleMaxF32 n=%d: max %v, twin %v", n, got, want)
			}
			for i := range sx {
				if sx[i] != sy[i] {
					t.Fatalf("ScaleMaxF32 n=%d at %d: %v, twin %v", n, i, sx[i], sy[i])
				}
			}
			x := randF32(r, n+1)[1:]
			for i := range x {
				x[i] *= 30
			}
			x[0] = -1000 // clamped
			m := float32(25)
			y := append([]float32(nil), x...)
			if got, want := o.ExpSubF32(x, m), ExpSubF32(y, m); got != want {
				t.Fatalf("ExpSubF32 n=%d: sum %v, twin %v", n, got, want)
			}
			for i := range x {
				if x[i] != y[i] {
					t.Fatalf("ExpSubF32 n=%d at %d: %v, twin %v", n, i, x[i], y[i])
				}
			}
		}
	})
}

// ExpF32 against math.Exp over the range softmax uses, in ulps.
func TestExpF32Accuracy(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x <= 10; x += 0.0013 {
		got, want := float64(ExpF32(x)), math.Exp(float64(x))
		ulp := float64(math.Nextafter32(float32(want), float32(math.Inf(1)))) - float64(float32(want))
		if e := math.Abs(got-want) / ulp; e > worst {
			worst = e
		}
	}
	if worst > 3 {
		t.Fatalf("ExpF32 is %.2f ulp off math.Exp at worst", worst)
	}
	t.Logf("worst error %.2f ulp", worst)
	if ExpF32(0) != 1 || ExpF32(-200) == 0 || ExpF32(-200) > 1e-37 {
		t.Fatalf("ExpF32(0) = %v, ExpF32(-200) = %v", ExpF32(0), ExpF32(-200))
	}
}

// Hadamard and the Q8_0 row quantizer against their twins, exactly.
func TestHadamardAndQ8_0QuantizerMatchTwins(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, n := range []int{16, 32, 64, 128, 256} {
			for _, blocks := range []int{1, 3} {
				x := randF32(r, n*blocks+1)[1:]
				y := append([]float32(nil), x...)
				o.Hadamard(x, n)
				Hadamard(y, n)
				for i := range x {
					if x[i] != y[i] {
						t.Fatalf("Hadamard n=%d blocks=%d at %d: %v, twin %v", n, blocks, i, x[i], y[i])
					}
				}
			}
		}
		for _, nb := range []int{1, 2, 5, 33} {
			x := randF32(r, nb*QK8_0+1)[1:]
			for i := range x {
				x[i] *= float32(1 + i%7*100)
			}
			copy(x[QK8_0:], make([]float32, min(QK8_0, len(x)-QK8_0))) // an all-zero block
			x[0] = 0.5 / 127 * 3                                       // ties to even need care
			got, want := make([]BlockQ8_0, nb), make([]BlockQ8_0, nb)
			o.QuantizeRowQ8_0(x, got)
			QuantizeRowQ8_0(x, want)
			for b := range got {
				if got[b] != want[b] {
					t.Fatalf("QuantizeRowQ8_0 nb=%d block %d: %+v, twin %+v", nb, b, got[b], want[b])
				}
			}
		}
	})
}

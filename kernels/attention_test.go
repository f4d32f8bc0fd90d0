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

// DotQ8_0RowsHeads against its twin and against one DotQ8_0Q8_0 per
// key and query, exactly: key counts around the kernel's group of eight,
// block counts to past its limit (nine: the per-query fallback), GQA
// groups of 1-8 queries and more query blocks than its constants hold.
// Zero and extreme query blocks check the unsigned-key correction.
func TestDotQ8_0RowsHeadsMatchesTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(63, 64))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, n := range []int{1, 7, 8, 9, 16, 23, 64} {
			for _, nb := range []int{1, 2, 3, 4, 8, 9} {
				for _, nq := range []int{1, 2, 3, 8, 9} {
					stride := nb + n%3
					k := randQ8_0Rows(r, (n-1)*stride+nb, 2)
					q := randQ8_0Rows(r, nq*nb, 1)
					if nq > 1 {
						for i := range q[nb].Qs { // a query block of -127s (Q8_0 never holds -128), one of zeros
							q[nb].Qs[i] = -127
							q[0].Qs[i] = 0
						}
					}
					got, want := make([]float32, nq*n), make([]float32, nq*n)
					o.DotQ8_0RowsHeads(got, n, k, stride, q, nq)
					DotQ8_0RowsHeads(want, n, k, stride, q, nq)
					for h := 0; h < nq; h++ {
						for j := 0; j < n; j++ {
							i := h*n + j
							one := DotQ8_0Q8_0(k[j*stride:j*stride+nb], q[h*nb:(h+1)*nb])
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(want[i]) != math.Float32bits(one) {
								t.Fatalf("n=%d nb=%d nq=%d query %d key %d: %v, twin %v, one dot %v", n, nb, nq, h, j, got[i], want[i], one)
							}
						}
					}
				}
			}
		}
	})
}

// AxpyF32RowsHeads against its twin and against AxpyF32Rows per head,
// exactly: head counts odd and even (the AVX-512 kernel takes pairs),
// head sizes it takes (64, 128) and not (32, 96), one row and many.
func TestAxpyF32RowsHeadsMatchesTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(65, 66))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, hd := range []int{32, 64, 96, 128} {
			for _, nh := range []int{1, 2, 3, 8} {
				for _, rows := range []int{1, 7, 64} {
					v := randF32(r, rows*hd+1)[1:]
					p := randF32(r, nh*rows)
					got := randF32(r, nh*hd+1)[1:]
					want := append([]float32(nil), got...)
					one := append([]float32(nil), got...)
					o.AxpyF32RowsHeads(got, nh, p, v)
					AxpyF32RowsHeads(want, nh, p, v)
					for h := 0; h < nh; h++ {
						AxpyF32Rows(one[h*hd:(h+1)*hd], p[h*rows:(h+1)*rows], v)
					}
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(want[i]) != math.Float32bits(one[i]) {
							t.Fatalf("hd=%d nh=%d rows=%d at %d: %v, twin %v, per head %v", hd, nh, rows, i, got[i], want[i], one[i])
						}
					}
				}
			}
		}
	})
}

// ExpSubF32Heads and ScaleMaxF32Heads against their twins and against
// one call per head, exactly: scores per head around the AVX-512
// kernels' 16 (and tails), 1-17 heads, maxima that some heads' scores
// exceed and others do not.
func TestSoftmaxHeadsMatchTwins(t *testing.T) {
	r := rand.New(rand.NewPCG(67, 68))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, n := range []int{1, 8, 15, 16, 17, 48, 64} {
			for _, nh := range []int{1, 2, 7, 8, 17} {
				x := randF32(r, nh*n+1)[1:]
				for i := range x {
					x[i] *= 40
				}
				m := make([]float32, nh)
				for h := range m {
					m[h] = float32(h%3-1) * 20
				}
				a, b, c := append([]float32(nil), x...), append([]float32(nil), x...), append([]float32(nil), x...)
				got, want := make([]float32, nh), make([]float32, nh)
				o.ScaleMaxF32Heads(a, nh, 0.125, m, got)
				ScaleMaxF32Heads(b, nh, 0.125, m, want)
				for h := 0; h < nh; h++ {
					one := ScaleMaxF32(c[h*n:(h+1)*n], 0.125, m[h])
					if math.Float32bits(got[h]) != math.Float32bits(want[h]) || math.Float32bits(want[h]) != math.Float32bits(one) {
						t.Fatalf("ScaleMaxF32Heads n=%d nh=%d head %d: %v, twin %v, one head %v", n, nh, h, got[h], want[h], one)
					}
				}
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) || math.Float32bits(b[i]) != math.Float32bits(c[i]) {
						t.Fatalf("ScaleMaxF32Heads n=%d nh=%d at %d: %v, twin %v", n, nh, i, a[i], b[i])
					}
				}
				o.ExpSubF32Heads(a, nh, got, m)
				ExpSubF32Heads(b, nh, want, want)
				for h := 0; h < nh; h++ {
					one := ExpSubF32(c[h*n:(h+1)*n], got[h])
					if math.Float32bits(m[h]) != math.Float32bits(want[h]) || math.Float32bits(want[h]) != math.Float32bits(one) {
						t.Fatalf("ExpSubF32Heads n=%d nh=%d head %d: %v, twin %v, one head %v", n, nh, h, m[h], want[h], one)
					}
				}
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) || math.Float32bits(b[i]) != math.Float32bits(c[i]) {
						t.Fatalf("ExpSubF32Heads n=%d nh=%d at %d: %v, twin %v", n, nh, i, a[i], b[i])
					}
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

package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// fma32 against exact arithmetic, on random operands and on the
// double-rounding traps: a·b+c whose float64 rounding lands exactly
// halfway between two float32s.
func TestFma32RoundsOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	exact := func(a, b, c float32) float32 {
		x := new(big.Float).SetPrec(400).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetPrec(400).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetPrec(400).SetFloat64(float64(c)))
		f, _ := x.Float32()
		return f
	}
	check := func(a, b, c float32) {
		if got, want := fma32(a, b, c), exact(a, b, c); got != want {
			t.Fatalf("fma32(%g, %g, %g) = %g, exact %g", a, b, c, got, want)
		}
	}
	for i := 0; i < 200000; i++ {
		a := float32(r.NormFloat64() * math.Exp2(float64(r.IntN(20)-10)))
		b := float32(r.NormFloat64())
		c := float32(r.NormFloat64() * math.Exp2(float64(r.IntN(60)-30)))
		check(a, b, c)
	}
	// The traps: a = 1+2^-e, b = 1+2^-(24-e) make a·b = 1 + 2^-e +
	// 2^-(24-e) + 2^-24, exactly halfway between two float32s; a c far
	// below float64's precision leaves the float64 sum on that midpoint,
	// so rounding it again would break the tie to even whichever side
	// the exact sum is on. The old float64-FMA twin failed half of these.
	for e := 1; e < 12; e++ {
		a, b := float32(1+math.Exp2(-float64(e))), float32(1+math.Exp2(-float64(24-e)))
		for k := 54; k < 100; k += 5 {
			for _, c := range []float32{float32(math.Exp2(-float64(k))), -float32(math.Exp2(-float64(k)))} {
				check(a, b, c)
				check(-a, b, c)
				check(a*1024, b/64, c*16)
			}
		}
	}
}

// The panel GEMM equals DotQ4KQ8K / DotQ6KQ8K bit for bit: every ISA's
// kernel and the twin, on depth tiles (k0 > 0, accumulating), strides
// wider than the tile, both sub-block sizes, and the activations' range
// ends (the integer sums' largest values).
func TestGemmPanelMatchesDot(t *testing.T) {
	r := rand.New(rand.NewPCG(91, 92))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 2, 5} {
			for trial := 0; trial < 2; trial++ {
				for _, typ := range []string{"q4_k", "q6_k"} {
					var p Panel
					var w4 []BlockQ4K
					var w6 []BlockQ6K
					if typ == "q4_k" {
						w4 = randQ4K(r, PanelRows*nb)
						PanelFromQ4K(&p, w4, nb)
					} else {
						w6 = randQ6K(r, PanelRows*nb)
						PanelFromQ6K(&p, w6, nb)
					}
					stride := nb + 1
					a := make([]BlockQ8K, 4*stride)
					for c := 0; c < 4; c++ {
						x := randF32(r, nb*QK_K)
						if trial == 1 { // all ±127 after quantization, in runs
							for i := range x {
								x[i] = float32(1 - 2*(i/7%2))
							}
						}
						QuantizeRowQ8K(x, a[c*stride:c*stride+nb])
					}
					kernels := map[string]func(*Panel, int, int, []BlockQ8K, int, []float32, int, bool){"twin": GemmPanelQ8K32x4}
					if o.GemmPanelQ8K32x4 != nil {
						kernels[o.ISA] = o.GemmPanelQ8K32x4
					}
					const ostride = PanelRows + 5
					for name, kernel := range kernels {
						out, tiled := make([]float32, 4*ostride), make([]float32, 4*ostride)
						kernel(&p, 0, nb, a, stride, out, ostride, false)
						for k0 := 0; k0 < nb; k0++ {
							kernel(&p, k0, 1, a[k0:], stride, tiled, ostride, k0 > 0)
						}
						for c := 0; c < 4; c++ {
							for row := 0; row < PanelRows; row++ {
								var want float32
								if typ == "q4_k" {
									want = DotQ4KQ8K(w4[row*nb:(row+1)*nb], a[c*stride:c*stride+nb])
								} else {
									want = DotQ6KQ8K(w6[row*nb:(row+1)*nb], a[c*stride:c*stride+nb])
								}
								got, tg := out[c*ostride+row], tiled[c*ostride+row]
								if math.Float32bits(got) != math.Float32bits(want) || math.Float32bits(tg) != math.Float32bits(want) {
									t.Fatalf("%s %s nb=%d trial %d col %d row %d: whole %g, depth-tiled %g, dot %g", name, typ, nb, trial, c, row, got, tg, want)
								}
							}
						}
						for c := 0; c < 4; c++ {
							for i := PanelRows; i < ostride; i++ {
								if out[c*ostride+i] != 0 {
									t.Fatalf("%s %s: wrote past row 32 of column %d", name, typ, c)
								}
							}
						}
					}
				}
			}
		}
	})
}

// Every ISA builds the twin's panel, byte for byte.
func TestPanelBuildersMatchTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(83, 84))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 3, 16} {
			for _, typ := range []string{"q4_k", "q6_k"} {
				var want, got Panel
				got.Qs = make([]uint8, 3) // reused and regrown
				if typ == "q4_k" {
					w := randQ4K(r, PanelRows*nb+1)[1:] // misaligned by one block
					PanelFromQ4K(&want, w, nb)
					o.PanelFromQ4K(&got, w, nb)
				} else {
					w := randQ6K(r, PanelRows*nb+1)[1:]
					PanelFromQ6K(&want, w, nb)
					o.PanelFromQ6K(&got, w, nb)
				}
				if !slices.Equal(got.Qs, want.Qs) || !slices.Equal(got.Sc, want.Sc) || !slices.Equal(got.Mn, want.Mn) || !slices.Equal(got.DM, want.DM) || got.Sub != want.Sub || got.Cols != want.Cols {
					for i := range want.Qs {
						if got.Qs[i] != want.Qs[i] {
							t.Fatalf("%s nb=%d: weight byte %d (quad %d, row %d) is %d, twin %d", typ, nb, i, i/panelQuadBytes%64, i%panelQuadBytes/4, got.Qs[i], want.Qs[i])
						}
					}
					t.Fatalf("%s nb=%d: panels differ outside the weights", typ, nb)
				}
			}
		}
	})
}

// A panel holds the K-quant's weights: its bytes, scales and offsets
// give back the dequantized values.
func TestPanelHoldsTheWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	const nb = 3
	w4, w6 := randQ4K(r, PanelRows*nb), randQ6K(r, PanelRows*nb)
	var p4, p6 Panel
	PanelFromQ4K(&p4, w4, nb)
	PanelFromQ6K(&p6, w6, nb)
	want := make([]float32, nb*QK_K)
	for row := 0; row < PanelRows; row++ {
		for _, p := range []*Panel{&p4, &p6} {
			if p == &p4 {
				DequantQ4K(w4[row*nb:(row+1)*nb], want)
			} else {
				DequantQ6K(w6[row*nb:(row+1)*nb], want)
			}
			ns := QK_K / p.Sub
			for k := range want {
				blk, j := k/QK_K, k%QK_K/p.Sub
				q := float64(p.Qs[k/4*panelQuadBytes+4*row+k%4])
				sc := float64(p.Sc[(blk*ns+j)*PanelRows+row])
				d, dmin := float64(p.DM[blk*2*PanelRows+row]), float64(p.DM[blk*2*PanelRows+PanelRows+row])
				var got float64
				if p.Sub == 32 {
					m := p.Mn[(blk*8+j)*PanelRows+row]
					got = d*sc*q - dmin*float64(int16(m))
				} else {
					pairIdx := j / 2
					m := p.Mn[(blk*8+pairIdx)*PanelRows+row]
					if int32(int16(m>>(16*(j%2)))) != int32(sc) {
						t.Fatalf("q6_k row %d sub-block %d: Mn pair holds %d, scale %v", row, j, int16(m>>(16*(j%2))), sc)
					}
					got = d * sc * (q - 32)
				}
				if math.Abs(got-float64(want[k])) > 1e-6*math.Abs(float64(want[k]))+1e-9 {
					t.Fatalf("sub %d row %d weight %d: panel %g, dequantized %g", p.Sub, row, k, got, want[k])
				}
			}
		}
	}
}

// A panel widened from repacked rows is the one widened from the same
// rows in the GGUF layout, every field, on every ISA's table: Q4_K and
// Q6_K.
func TestPanelFromR4(t *testing.T) {
	t.Run("Q4_K", func(t *testing.T) {
		testPanelFromR4(t, 91, randQ4K, RepackQ4KR4, PanelFromQ4K, PanelFromQ4KR4, func(o *Ops) func(*Panel, []BlockQ4KR4, int) { return o.PanelFromQ4KR4 })
	})
	t.Run("Q6_K", func(t *testing.T) {
		testPanelFromR4(t, 93, randQ6K, RepackQ6KR4, PanelFromQ6K, PanelFromQ6KR4, func(o *Ops) func(*Panel, []BlockQ6KR4, int) { return o.PanelFromQ6KR4 })
	})
}

func testPanelFromR4[B, R any](t *testing.T, seed uint64, rnd func(*rand.Rand, int) []B, repack func([]B, []R),
	fromRows func(*Panel, []B, int), twin func(*Panel, []R, int), kernel func(*Ops) func(*Panel, []R, int)) {
	r := rand.New(rand.NewPCG(seed, seed+1))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 3, 16} {
			w := rnd(r, PanelRows*nb)
			rp := make([]R, PanelRows/4*nb)
			for g := 0; g < PanelRows/4; g++ {
				repack(w[4*g*nb:4*(g+1)*nb], rp[g*nb:(g+1)*nb])
			}
			var want, got Panel
			fromRows(&want, w, nb)
			f := kernel(o)
			if f == nil {
				f = twin
			}
			got.Qs = make([]uint8, 7) // reused memory must not leak through
			f(&got, rp, nb)
			if got.Sub != want.Sub || got.Cols != want.Cols || !slices.Equal(got.Qs, want.Qs) || !slices.Equal(got.Sc, want.Sc) ||
				!slices.Equal(got.Mn, want.Mn) || !slices.Equal(got.DM, want.DM) {
				t.Fatalf("nb=%d: panel from repacked rows differs from the GGUF rows' panel", nb)
			}
		}
	})
}

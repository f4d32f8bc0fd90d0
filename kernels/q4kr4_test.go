package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The repacked layout and its twin reproduce DotQ4KQ8K row by row,
// exactly; every ISA's kernel reproduces the twin.
func TestGemvQ4KR4MatchesDot(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	forEachISA(t, func(t *testing.T, o *Ops) { checkGemvQ4KR4(t, r, o.GemvQ4KR4Q8K4x1) })
}

// checkGemvQ4KR4 runs one 4-row repacked GEMV kernel on odd block
// counts, misaligned, with ordinary, huge and extreme (±127, the int16
// bound of the kernels' partial sums) activations.
func checkGemvQ4KR4(t *testing.T, r *rand.Rand, gemv func([]BlockQ4KR4, []BlockQ8K, *[4]float32)) {
	t.Helper()
	// 16, 17, 20, 22 and 43 blocks: the AVX-512 kernels split them into
	// calls of 8+8, 5+6+6, 5×4, 7+7+8 and 7×5+8 blocks (gemvR4Calls).
	for _, nb := range []int{1, 2, 3, 7, 16, 17, 20, 22, 43} {
		for trial := 0; trial < 3; trial++ {
			w := randQ4K(r, 4*nb)
			a := trialQ8K(r, nb, trial, 127, 7)
			rp := make([]BlockQ4KR4, nb)
			RepackQ4KR4(w, rp)
			rp = misaligned(rp, BlockQ4KR4Size, AsQ4KR4)
			ar := make([]BlockQ8K, nb) // the repacked kernels' activation order
			Q8KToR4Order(ar, a)
			var twin [4]float32
			nan := float32(math.NaN())
			got := [4]float32{nan, nan, nan, nan} // out is written, not added to
			gemv(rp, ar, &got)
			GemvQ4KR4Q8K4x1(rp, ar, &twin)
			for row := 0; row < 4; row++ {
				want := DotQ4KQ8K(w[row*nb:(row+1)*nb], a)
				if twin[row] != want || got[row] != want {
					t.Fatalf("nb=%d trial %d row %d: kernel %v, twin %v, DotQ4KQ8K %v", nb, trial, row, got[row], twin[row], want)
				}
			}
		}
	}
}

// The repacked 4×4 GEMM against DotQ4KQ8K for every (row, column), on
// the ISAs that have it, and its twin everywhere.
func TestGemmQ4KR4MatchesDot(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 2, 3, 16, 22, 43} { // the AVX-512 calls split 16, 22 and 43 (r4CallPlan)
			for _, stride := range []int{nb, nb + 5} {
				// extreme: every weight 15 with scales and mins 63, every
				// activation ±127: the integer sums' worst case.
				extreme := stride > nb && nb%2 == 1
				w := randQ4K(r, 4*nb)
				if extreme {
					for i := range w {
						w[i].D, w[i].Dmin = F32ToFP16(1), F32ToFP16(0.5)
						for j := range w[i].Scales {
							w[i].Scales[j] = 0xff
						}
						for j := range w[i].Qs {
							w[i].Qs[j] = 0xff
						}
					}
				}
				rp := make([]BlockQ4KR4, nb)
				RepackQ4KR4(w, rp)
				rp = misaligned(rp, BlockQ4KR4Size, AsQ4KR4)
				a := make([]BlockQ8K, 8*stride)
				for c := 0; c < 8; c++ {
					if extreme {
						copy(a[c*stride:], trialQ8K(r, nb, 2, int8(127-254*(c%2)), 1<<20))
						continue
					}
					x := randF32(r, nb*QK_K)
					if c == 2 {
						for i := range x {
							x[i] *= 1e4
						}
					}
					QuantizeRowQ8K(x, a[c*stride:c*stride+nb])
				}
				ar := make([]BlockQ8K, len(a)) // the repacked kernels' activation order
				Q8KToR4Order(ar, a)
				var got, twin [16]float32
				GemmQ4KR4Q8K4x4(rp, ar, stride, &twin)
				if o.GemmQ4KR4Q8K4x4 != nil {
					got = nanOut16()
					o.GemmQ4KR4Q8K4x4(rp, ar, stride, &got)
				} else {
					got = twin
				}
				if err := checkFewColumns(rp, ar, stride, &got, o.GemmQ4KR4Q8K4x2, GemmQ4KR4Q8K4x2, o.GemmQ4KR4Q8K4x3, GemmQ4KR4Q8K4x3); err != nil {
					t.Fatalf("nb=%d stride=%d: %v", nb, stride, err)
				}
				if err := checkTokenMajor(rp, ar, stride, &got, [3]func([]BlockQ4KR4, []BlockQ8K, int, []float32, int){o.GemmQ4KR4Q8K4x2T, o.GemmQ4KR4Q8K4x3T, o.GemmQ4KR4Q8K4x4T},
					[3]func([]BlockQ4KR4, []BlockQ8K, int, []float32, int){GemmQ4KR4Q8K4x2T, GemmQ4KR4Q8K4x3T, GemmQ4KR4Q8K4x4T}); err != nil {
					t.Fatalf("nb=%d stride=%d: %v", nb, stride, err)
				}
				const ostride = 7 // token-major output, rows of 7
				got8, twin8 := make([]float32, 8*ostride), make([]float32, 8*ostride)
				GemmQ4KR4Q8K4x8(rp, ar, stride, twin8, ostride)
				if o.GemmQ4KR4Q8K4x8 != nil {
					o.GemmQ4KR4Q8K4x8(rp, ar, stride, got8, ostride)
				} else {
					copy(got8, twin8)
				}
				for row := 0; row < 4; row++ {
					for c := 0; c < 8; c++ {
						want := DotQ4KQ8K(w[row*nb:(row+1)*nb], a[c*stride:c*stride+nb])
						if c < 4 && (got[4*row+c] != want || twin[4*row+c] != want) {
							t.Fatalf("nb=%d stride=%d row %d col %d: kernel %v, twin %v, DotQ4KQ8K %v", nb, stride, row, c, got[4*row+c], twin[4*row+c], want)
						}
						k := c*ostride + row
						if got8[k] != want || twin8[k] != want {
							t.Fatalf("x8 nb=%d stride=%d row %d col %d: kernel %v, twin %v, DotQ4KQ8K %v", nb, stride, row, c, got8[k], twin8[k], want)
						}
					}
				}
			}
		}
	})
}

// The repacked Q6_K layout and its twin reproduce DotQ6KQ8K row by row;
// every ISA that has the kernel reproduces the twin.
func TestGemvQ6KR4MatchesDot(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 2, 3, 16, 22, 43} {
			for trial := 0; trial < 2; trial++ {
				w := randQ6K(r, 4*nb)
				a := trialQ8K(r, nb, trial, 127, 1)
				rp := make([]BlockQ6KR4, nb)
				RepackQ6KR4(w, rp)
				rp = misaligned(rp, BlockQ6KR4Size, AsQ6KR4)
				ar := make([]BlockQ8K, nb) // the repacked kernels' activation order
				Q8KToQ6R4Order(ar, a)
				var got, twin [4]float32
				GemvQ6KR4Q8K4x1(rp, ar, &twin)
				got = twin
				if o.GemvQ6KR4Q8K4x1 != nil {
					nan := float32(math.NaN())
					got = [4]float32{nan, nan, nan, nan} // written, not added to
					o.GemvQ6KR4Q8K4x1(rp, ar, &got)
				}
				for row := 0; row < 4; row++ {
					want := DotQ6KQ8K(w[row*nb:(row+1)*nb], a)
					if twin[row] != want || got[row] != want {
						t.Fatalf("nb=%d trial %d row %d: kernel %v, twin %v, DotQ6KQ8K %v", nb, trial, row, got[row], twin[row], want)
					}
				}
			}
		}
	})
}

// The repacked 4×4 Q6_K GEMM against DotQ6KQ8K for every (row, column).
// The AVX-512 2- and 3-column kernels load a block ahead and split 16,
// 22 and 43 blocks into calls (r4CallPlan).
func TestGemmQ6KR4MatchesDot(t *testing.T) {
	r := rand.New(rand.NewPCG(91, 92))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 2, 3, 16, 22, 43} {
			for _, stride := range []int{nb, nb + 3} {
				w := randQ6K(r, 4*nb)
				rp := make([]BlockQ6KR4, nb)
				RepackQ6KR4(w, rp)
				rp = misaligned(rp, BlockQ6KR4Size, AsQ6KR4)
				a := make([]BlockQ8K, 8*stride)
				for c := 0; c < 8; c++ {
					QuantizeRowQ8K(randF32(r, nb*QK_K), a[c*stride:c*stride+nb])
				}
				ar := make([]BlockQ8K, len(a))
				Q8KToQ6R4Order(ar, a)
				var got, twin [16]float32
				GemmQ6KR4Q8K4x4(rp, ar, stride, &twin)
				got = twin
				if o.GemmQ6KR4Q8K4x4 != nil {
					got = nanOut16() // written, not added to
					o.GemmQ6KR4Q8K4x4(rp, ar, stride, &got)
				}
				if err := checkFewColumns(rp, ar, stride, &got, o.GemmQ6KR4Q8K4x2, GemmQ6KR4Q8K4x2, o.GemmQ6KR4Q8K4x3, GemmQ6KR4Q8K4x3); err != nil {
					t.Fatalf("nb=%d stride=%d: %v", nb, stride, err)
				}
				if err := checkTokenMajor(rp, ar, stride, &got, [3]func([]BlockQ6KR4, []BlockQ8K, int, []float32, int){o.GemmQ6KR4Q8K4x2T, o.GemmQ6KR4Q8K4x3T, o.GemmQ6KR4Q8K4x4T},
					[3]func([]BlockQ6KR4, []BlockQ8K, int, []float32, int){GemmQ6KR4Q8K4x2T, GemmQ6KR4Q8K4x3T, GemmQ6KR4Q8K4x4T}); err != nil {
					t.Fatalf("nb=%d stride=%d: %v", nb, stride, err)
				}
				const ostride = 5
				got8, twin8 := make([]float32, 8*ostride), make([]float32, 8*ostride)
				GemmQ6KR4Q8K4x8(rp, ar, stride, twin8, ostride)
				copy(got8, twin8)
				if o.GemmQ6KR4Q8K4x8 != nil {
					o.GemmQ6KR4Q8K4x8(rp, ar, stride, got8, ostride)
				}
				for row := 0; row < 4; row++ {
					for c := 0; c < 8; c++ {
						want := DotQ6KQ8K(w[row*nb:(row+1)*nb], a[c*stride:c*stride+nb])
						if c < 4 && (got[4*row+c] != want || twin[4*row+c] != want) {
							t.Fatalf("nb=%d stride=%d row %d col %d: kernel %v, twin %v, DotQ6KQ8K %v", nb, stride, row, c, got[4*row+c], twin[4*row+c], want)
						}
						if k := c*ostride + row; got8[k] != want || twin8[k] != want {
							t.Fatalf("x8 nb=%d stride=%d row %d col %d: kernel %v, twin %v, DotQ6KQ8K %v", nb, stride, row, c, got8[k], twin8[k], want)
						}
					}
				}
			}
		}
	})
}

// The packed 6-bit scales and mins: every value at every (row,
// sub-block) comes back, and setting one leaves the other 63 alone.
func TestQ4KR4ScaleMinPacking(t *testing.T) {
	var b BlockQ4KR4
	want := func(r, j int) (uint8, uint8) { return uint8((7*r + 3*j) % 64), uint8((5*r + 11*j + 1) % 64) }
	for r := 0; r < 4; r++ {
		for j := 0; j < 8; j++ {
			s, m := want(r, j)
			b.setScaleMin(r, j, s, m)
		}
	}
	for v := 0; v < 64; v++ {
		for r := 0; r < 4; r++ {
			for j := 0; j < 8; j++ {
				c := b
				c.setScaleMin(r, j, uint8(v), uint8(63-v))
				for rr := 0; rr < 4; rr++ {
					for jj := 0; jj < 8; jj++ {
						s, m := c.ScaleMin(rr, jj)
						ws, wm := want(rr, jj)
						if rr == r && jj == j {
							ws, wm = uint8(v), uint8(63-v)
						}
						if s != ws || m != wm {
							t.Fatalf("set (%d,%d)=(%d,%d): (%d,%d) reads (%d,%d), want (%d,%d)", r, j, v, 63-v, rr, jj, s, m, ws, wm)
						}
					}
				}
			}
		}
	}
}

// checkFewColumns runs the 2- and 3-column kernels (nil: the twin
// stands in) and their twins against x4, the 4-column kernel's result;
// each kernel gets only the columns it may read.
func checkFewColumns[B any](rp []B, a []BlockQ8K, stride int, x4 *[16]float32, k2, twin2, k3, twin3 func([]B, []BlockQ8K, int, *[16]float32)) error {
	for cols, k := range map[int][2]func([]B, []BlockQ8K, int, *[16]float32){2: {k2, twin2}, 3: {k3, twin3}} {
		var got, twin [16]float32
		k[1](rp, a, stride, &twin)
		got = twin
		if k[0] != nil {
			got = nanOut16() // written, not added to
			k[0](rp, a[:(cols-1)*stride+len(rp)], stride, &got)
		}
		if err := checkColumns(cols, x4, &got, &twin); err != nil {
			return err
		}
	}
	return nil
}

// checkTokenMajor: the GEMMs of 2, 3 and 4 columns stored token-major
// (kernels k where the table has them, and twins) write x4's
// out[4r+c] at c·ostride+r for their columns, bit for bit, and nothing
// else of out (NaN elsewhere stays NaN; a kernel that added to out
// without the wrapper's zeroing would leave NaN where it writes).
func checkTokenMajor[B any](rp []B, a []BlockQ8K, stride int, x4 *[16]float32, k, twin [3]func([]B, []BlockQ8K, int, []float32, int)) error {
	const ostride = 6
	for i := range k {
		cols := 2 + i
		for name, f := range map[string]func([]B, []BlockQ8K, int, []float32, int){"kernel": k[i], "twin": twin[i]} {
			if f == nil {
				continue
			}
			out := make([]float32, 5*ostride)
			for j := range out {
				out[j] = float32(math.NaN())
			}
			f(rp, a[:(cols-1)*stride+len(rp)], stride, out, ostride)
			for j, v := range out {
				c, r := j/ostride, j%ostride
				if r >= 4 || c >= cols {
					if !math.IsNaN(float64(v)) {
						return fmt.Errorf("%d columns token-major, %s wrote out[%d] (column %d, row %d)", cols, name, j, c, r)
					}
					continue
				}
				if v != x4[4*r+c] {
					return fmt.Errorf("%d columns token-major, %s: row %d col %d %v, 4-column GEMM %v", cols, name, r, c, v, x4[4*r+c])
				}
			}
		}
	}
	return nil
}

// nanOut16 is a GEMM output filled with NaN: a kernel that added to its
// output instead of writing it would leave NaN behind.
func nanOut16() [16]float32 {
	var o [16]float32
	for i := range o {
		o[i] = float32(math.NaN())
	}
	return o
}

// checkColumns: a GEMM of fewer than four columns gives, kernel and
// twin, the 4-column kernel's first cols columns bit for bit and zero
// in the rest.
func checkColumns(cols int, x4, got, twin *[16]float32) error {
	for i := range got {
		want := x4[i]
		if i%4 >= cols {
			want = 0
		}
		if math.Float32bits(got[i]) != math.Float32bits(want) || math.Float32bits(twin[i]) != math.Float32bits(want) {
			return fmt.Errorf("x%d out[%d]: kernel %v, twin %v, want %v", cols, i, got[i], twin[i], want)
		}
	}
	return nil
}

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFP16RoundTripAllValues(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := FP16ToF32(h)
		if f != f { // NaN: any quiet NaN is fine
			if g := F32ToFP16(f); g&0x7c00 != 0x7c00 || g&0x3ff == 0 {
				t.Fatalf("NaN %#04x -> %#04x", h, g)
			}
			continue
		}
		if g := F32ToFP16(f); g != h {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, g)
		}
	}
}

func TestF32ToFP16RoundsToNearestEven(t *testing.T) {
	cases := []struct {
		f    float32
		want uint16
	}{
		{1, 0x3c00},
		{1 + 1.0/2048, 0x3c00},                // tie, even stays
		{1 + 3.0/2048, 0x3c02},                // tie, rounds up to even
		{65504, 0x7bff},                       // max finite
		{65520, 0x7c00},                       // rounds to Inf
		{float32(math.Ldexp(1, -24)), 0x0001}, // smallest subnormal
		{float32(math.Ldexp(1, -26)), 0x0000}, // below half of it
		{-2, 0xc000},
	}
	for _, c := range cases {
		if got := F32ToFP16(c.f); got != c.want {
			t.Errorf("F32ToFP16(%v) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

func TestBF16(t *testing.T) {
	for _, f := range []float32{0, 1, -3.5, 1e30, 1.0 / 3} {
		got := BF16ToF32(F32ToBF16(f))
		if math.Abs(float64(got-f)) > math.Abs(float64(f))/128 {
			t.Errorf("bf16(%v) = %v", f, got)
		}
	}
}

func randQ4K(r *rand.Rand, n int) []BlockQ4K {
	b := make([]BlockQ4K, n)
	for i := range b {
		b[i].D = F32ToFP16(r.Float32() * 0.01)
		b[i].Dmin = F32ToFP16(r.Float32() * 0.01)
		for j := range b[i].Scales {
			b[i].Scales[j] = uint8(r.IntN(256))
		}
		for j := range b[i].Qs {
			b[i].Qs[j] = uint8(r.IntN(256))
		}
	}
	return b
}

// randQ5K: random Q5_K blocks, every bit of the scales, fifth bits and
// nibbles drawn.
func randQ5K(r *rand.Rand, n int) []BlockQ5K {
	b := make([]BlockQ5K, n)
	for i := range b {
		b[i].D = F32ToFP16(r.Float32() * 0.01)
		b[i].Dmin = F32ToFP16(r.Float32() * 0.01)
		for j := range b[i].Scales {
			b[i].Scales[j] = uint8(r.IntN(256))
		}
		for j := range b[i].Qh {
			b[i].Qh[j] = uint8(r.IntN(256))
		}
		for j := range b[i].Qs {
			b[i].Qs[j] = uint8(r.IntN(256))
		}
	}
	return b
}

func randQ6K(r *rand.Rand, n int) []BlockQ6K {
	b := make([]BlockQ6K, n)
	for i := range b {
		b[i].D = F32ToFP16(r.Float32() * 0.01)
		for j := range b[i].Ql {
			b[i].Ql[j] = uint8(r.IntN(256))
		}
		for j := range b[i].Qh {
			b[i].Qh[j] = uint8(r.IntN(256))
		}
		for j := range b[i].Scales {
			b[i].Scales[j] = int8(r.IntN(256) - 128)
		}
	}
	return b
}

func randF32(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func dotF64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// The integer dot products must equal the float dot of the decoded rows
// (decoded weights · decoded Q8 activations) up to float rounding.
func TestDotsMatchDecodedRows(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, nb := range []int{1, 3, 17} {
		n := nb * QK_K
		x := randF32(r, n)
		q8k := make([]BlockQ8K, nb)
		QuantizeRowQ8K(x, q8k)
		xa := make([]float32, n)
		for i := range q8k {
			for j := 0; j < QK_K; j++ {
				xa[i*QK_K+j] = q8k[i].D * float32(q8k[i].Qs[j])
			}
		}
		w4 := randQ4K(r, nb)
		wf := make([]float32, n)
		DequantQ4K(w4, wf)
		check(t, "q4k", float64(DotQ4KQ8K(w4, q8k)), dotF64(wf, xa))
		w5 := make([]BlockQ5K, nb)
		QuantizeQ5K(randF32(r, n), w5)
		DequantQ5K(w5, wf)
		check(t, "q5k", float64(DotQ5KQ8K(w5, q8k)), dotF64(wf, xa))
		w6 := randQ6K(r, nb)
		DequantQ6K(w6, wf)
		check(t, "q6k", float64(DotQ6KQ8K(w6, q8k)), dotF64(wf, xa))

		q80 := make([]BlockQ8_0, n/QK8_0)
		QuantizeRowQ8_0(x, q80)
		DequantQ8_0(q80, xa)
		w8 := make([]BlockQ8_0, n/QK8_0)
		QuantizeRowQ8_0(randF32(r, n), w8)
		DequantQ8_0(w8, wf)
		check(t, "q8_0", float64(DotQ8_0Q8_0(w8, q80)), dotF64(wf, xa))

		check(t, "f32", float64(DotF32(wf, x)), dotF64(wf, x))
		h1, h2 := make([]uint16, n), make([]uint16, n)
		ConvertRowF16(wf, h1)
		ConvertRowF16(x, h2)
		f1, f2 := make([]float32, n), make([]float32, n)
		DequantF16(h1, f1)
		DequantF16(h2, f2)
		check(t, "f16", float64(DotF16(h1, h2)), dotF64(f1, f2))
	}
}

func check(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
		t.Errorf("%s: got %v want %v", name, got, want)
	}
}

func TestQuantizeQ8KErrorBound(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := randF32(r, 4*QK_K)
	x[5] = 0
	q := make([]BlockQ8K, 4)
	QuantizeRowQ8K(x, q)
	for i := range q {
		var amax float64
		for j := 0; j < QK_K; j++ {
			amax = math.Max(amax, math.Abs(float64(x[i*QK_K+j])))
		}
		var s int
		for j := 0; j < QK_K; j++ {
			got := float64(q[i].D) * float64(q[i].Qs[j])
			if math.Abs(got-float64(x[i*QK_K+j])) > amax/127*0.5001 {
				t.Fatalf("block %d elem %d: %v vs %v", i, j, got, x[i*QK_K+j])
			}
			s += int(q[i].Qs[j])
			if j%16 == 15 {
				if int(q[i].Bsums[j/16]) != s {
					t.Fatalf("bsum %d", j/16)
				}
				s = 0
			}
		}
	}
	// All-zero input gives an all-zero block, not NaN.
	z := make([]BlockQ8K, 1)
	QuantizeRowQ8K(make([]float32, QK_K), z)
	if z[0].D != 0 || z[0].Qs[0] != 0 {
		t.Fatal("zero block")
	}
}

func TestScaleMinK4Packing(t *testing.T) {
	// Pack known 6-bit values the documented way and read them back.
	var sc, mn [8]uint8
	for j := range sc {
		sc[j], mn[j] = uint8(j*7+3)&63, uint8(63-j*5)&63
	}
	var q [12]uint8
	for j := 0; j < 4; j++ {
		q[j] = sc[j] | (sc[j+4]>>4)<<6
		q[j+4] = mn[j] | (mn[j+4]>>4)<<6
		q[j+8] = sc[j+4]&0xF | (mn[j+4]&0xF)<<4
	}
	for j := 0; j < 8; j++ {
		s, m := ScaleMinK4(j, &q)
		if s != sc[j] || m != mn[j] {
			t.Fatalf("j=%d got %d,%d want %d,%d", j, s, m, sc[j], mn[j])
		}
	}
}

func TestSumU64MatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{512, 1024, 512 * 37} {
		b := make([]byte, n+1)[1:] // misaligned
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		if got, want := SumU64(b), sumU64Generic(b); got != want {
			t.Fatalf("n=%d: %d, generic %d", n, got, want)
		}
	}
}

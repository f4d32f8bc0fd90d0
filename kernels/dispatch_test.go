package kernels

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// forEachISA runs f under every instruction set this CPU supports, and
// restores the previous choice.
func forEachISA(t *testing.T, f func(t *testing.T, o *Ops)) {
	prev := active
	defer func() { active = prev }()
	for _, s := range ISAs() {
		if !s.Supported {
			t.Logf("%s: not supported here (%s)", s.Name, s.Reason)
			continue
		}
		if err := Use(s.Name); err != nil {
			t.Fatal(err)
		}
		t.Run(s.Name, func(t *testing.T) { f(t, Active()) })
	}
}

// trialQ8K draws nb blocks of activations for a kernel test's trial:
// 0 ordinary, 1 huge (×1e4: the same after quantization, scaled d), 2
// extreme — every value ±127 in runs of period starting with first, the
// bound the kernels' int16 partial sums must hold — with the Q8_K
// invariant (bsums) kept. Other trials are ordinary.
func trialQ8K(r *rand.Rand, nb, trial int, first int8, period int) []BlockQ8K {
	x := randF32(r, nb*QK_K)
	if trial == 1 {
		for i := range x {
			x[i] *= 1e4
		}
	}
	a := make([]BlockQ8K, nb)
	QuantizeRowQ8K(x, a)
	if trial == 2 {
		for i := range a {
			for j := range a[i].Qs {
				a[i].Qs[j] = first
				if (j/period)&1 == 1 {
					a[i].Qs[j] = -first
				}
			}
			for g := range a[i].Bsums {
				var s int16
				for _, q := range a[i].Qs[16*g : 16*g+16] {
					s += int16(q)
				}
				a[i].Bsums[g] = s
			}
		}
	}
	return a
}

func TestUseRefusesUnknownISA(t *testing.T) {
	prev := active
	defer func() { active = prev }()
	if err := Use("sse9"); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Fatalf("got %v", err)
	}
	for _, s := range ISAs() {
		if !s.Supported {
			if err := Use(s.Name); err == nil {
				t.Errorf("%s accepted on a CPU without it", s.Name)
			}
		}
	}
}

// Every ISA's kernels against the pure-Go twins on odd shapes: rows of
// 1 to 64 super-blocks, misaligned slices (the blocks start at an odd
// byte offset), random data including extreme scales.
func TestKernelsMatchGenericTwins(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 2, 3, 7, 16, 17, 64} {
			for trial := 0; trial < 4; trial++ {
				w4 := misalignedQ4K(randQ4K(r, nb))
				a := trialQ8K(r, nb, trial, 127, 3)
				got, want := o.DotQ4KQ8K(w4, a), DotQ4KQ8K(w4, a)
				if got != want {
					t.Fatalf("Q4_K nb=%d trial %d: %v, generic %v", nb, trial, got, want)
				}
				w5 := misaligned(randQ5K(r, nb), BlockQ5KSize, AsQ5K)
				if got, want := o.DotQ5KQ8K(w5, a), DotQ5KQ8K(w5, a); got != want {
					t.Fatalf("Q5_K nb=%d trial %d: %v, generic %v", nb, trial, got, want)
				}
				w6 := misaligned(randQ6K(r, nb), BlockQ6KSize, AsQ6K)
				if got, want := o.DotQ6KQ8K(w6, a), DotQ6KQ8K(w6, a); got != want {
					t.Fatalf("Q6_K nb=%d trial %d: %v, generic %v", nb, trial, got, want)
				}
			}
		}
	})
}

// misalignedQ4K copies blocks to a buffer starting at an odd address.
func misalignedQ4K(b []BlockQ4K) []BlockQ4K { return misaligned(b, BlockQ4KSize, AsQ4K) }

func misaligned[T any](b []T, size int, as func([]byte) []T) []T {
	raw := make([]byte, len(b)*size+1)
	copy(raw[1:], BytesOf(b))
	return as(raw[1:])
}

// The table chosen at start is the best supported one (or ASDSL_ISA's).
func TestDefaultChoiceIsBestSupported(t *testing.T) {
	if os.Getenv("ASDSL_ISA") != "" {
		t.Skip("ASDSL_ISA overrides the default choice")
	}
	want := "generic"
	for _, s := range ISAs() {
		if s.Supported && !strings.HasSuffix(s.Name, "-float") {
			want = s.Name
			break
		}
	}
	if got := defaultChoice().ISA; got != want {
		t.Fatalf("default kernels are %s, best supported is %s", got, want)
	}
}

// The 4-column GEMM kernels against four generic dot products: exact,
// like the GEMV kernels.
func TestGemmKernelsMatchTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 2, 3, 16, 43} {
			for _, stride := range []int{nb, nb + 5} {
				w := misalignedQ4K(randQ4K(r, nb))
				a := make([]BlockQ8K, 4*stride)
				for c := 0; c < 4; c++ {
					QuantizeRowQ8K(randF32(r, nb*QK_K), a[c*stride:c*stride+nb])
				}
				var got, want [4]float32
				o.GemmQ4KQ8K1x4(w, a, stride, &got)
				GemmQ4KQ8K1x4(w, a, stride, &want)
				if got != want {
					t.Fatalf("nb=%d stride=%d: %v, generic %v", nb, stride, got, want)
				}
				w5 := misaligned(randQ5K(r, nb), BlockQ5KSize, AsQ5K)
				o.GemmQ5KQ8K1x4(w5, a, stride, &got)
				GemmQ5KQ8K1x4(w5, a, stride, &want)
				if got != want {
					t.Fatalf("Q5_K nb=%d stride=%d: %v, generic %v", nb, stride, got, want)
				}
				w6 := misaligned(randQ6K(r, nb), BlockQ6KSize, AsQ6K)
				o.GemmQ6KQ8K1x4(w6, a, stride, &got)
				GemmQ6KQ8K1x4(w6, a, stride, &want)
				if got != want {
					t.Fatalf("Q6_K nb=%d stride=%d: %v, generic %v", nb, stride, got, want)
				}
			}
		}
	})
}

// The unpacked-row path: unpacking, then the 4-column kernel, equals
// DotQ4KQ8K per column bit for bit, on every ISA.
func TestUnpackedGemmMatchesDot(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 2, 5, 16} {
			w := misalignedQ4K(randQ4K(r, nb))
			u := make([]UnpackedQ4K, nb)
			o.UnpackQ4K(w, u)
			var ref []UnpackedQ4K = make([]UnpackedQ4K, nb)
			UnpackQ4K(w, ref)
			for i := range u {
				if u[i] != ref[i] {
					t.Fatalf("nb=%d: block %d unpacks differently from the twin", nb, i)
				}
			}
			stride := nb + 3
			a := make([]BlockQ8K, 4*stride)
			for c := 0; c < 4; c++ {
				QuantizeRowQ8K(randF32(r, nb*QK_K), a[c*stride:c*stride+nb])
			}
			var got [4]float32
			o.GemmQ4KUnpackedQ8K1x4(u, a, stride, &got)
			for c := 0; c < 4; c++ {
				if want := DotQ4KQ8K(w, a[c*stride:c*stride+nb]); got[c] != want {
					t.Fatalf("nb=%d col %d: %v, DotQ4KQ8K %v", nb, c, got[c], want)
				}
			}
		}
	})
}

// The float variant against its Go twin: float accumulation (FMA per
// lane), so equal up to rounding — the twin's float64 FMA rounds twice.
func TestFloatKernelMatchesTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 3, 16} {
			w := misalignedQ4K(randQ4K(r, nb))
			x := randF32(r, nb*QK_K)
			xs := make([]float32, nb*8)
			SubBlockSums32(x, xs)
			got, want := o.DotQ4KF32(w, x, xs), DotQ4KF32(w, x, xs)
			// Reference in float64 for the scale of the rounding.
			deq := make([]float32, len(x))
			DequantQ4K(w, deq)
			var mag float64
			for i := range x {
				mag += math.Abs(float64(deq[i]) * float64(x[i]))
			}
			if d := math.Abs(float64(got - want)); d > 1e-6*mag {
				t.Fatalf("nb=%d: %v vs twin %v (|diff| %g, scale %g)", nb, got, want, d, mag)
			}
			var ref float64
			for i := range x {
				ref += float64(deq[i]) * float64(x[i])
			}
			if d := math.Abs(float64(want) - ref); d > 1e-5*mag {
				t.Fatalf("twin %v far from the float64 dot %v", want, ref)
			}
		}
	})
}

// Every ISA's Q8_K quantizer is byte-identical to QuantizeRowQ8K:
// random rows, huge and tiny magnitudes, an all-zero block, ties for the
// largest magnitude (+m and -m: the first one decides the sign of d),
// and values that land exactly on .5 after scaling (round half to even).
func TestQuantizeQ8KMatchesTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 2, 5, 16} {
			for trial := 0; trial < 8; trial++ {
				x := randF32(r, nb*QK_K)
				switch trial {
				case 1:
					for i := range x {
						x[i] *= 1e30
					}
				case 2:
					for i := range x {
						x[i] *= 1e-30
					}
				case 3:
					clear(x[:QK_K]) // first block all zero
				case 4:
					x[7], x[200] = -30, 30 // tie: -30 comes first
				case 5:
					x[9], x[3] = 30, -30 // tie: -30 comes first again
				case 6:
					// 254 = 2*127: scaled values are k/2, ties everywhere.
					for i := range x {
						x[i] = float32(int(r.IntN(509))-254) / 2
					}
					x[0] = 127
				case 7:
					x[len(x)-1] = 50 // the largest is the last value
				}
				want := make([]BlockQ8K, nb)
				got := make([]BlockQ8K, nb)
				for i := range got {
					got[i].D = 42 // the kernel must overwrite everything
					got[i].Qs[5] = 9
					got[i].Bsums[3] = 9
				}
				QuantizeRowQ8K(x, want)
				o.QuantizeRowQ8K(x, got)
				for b := range want {
					if got[b] != want[b] {
						t.Fatalf("nb=%d trial=%d block %d: d %v/%v qs %v/%v bsums %v/%v", nb, trial, b,
							got[b].D, want[b].D, got[b].Qs[:16], want[b].Qs[:16], got[b].Bsums, want[b].Bsums)
					}
				}
			}
		}
	})
}

// The 4-row GEMV kernels against DotQ4KQ8K / DotQ6KQ8K on each row: exact, on odd
// row lengths, misaligned rows, and large and extreme activations.
func TestGemv4RowsMatchesDot(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 2, 3, 7, 16, 17, 43} {
			for trial := 0; trial < 3; trial++ {
				w := misalignedQ4K(randQ4K(r, 4*nb))
				a := trialQ8K(r, nb, trial, -127, 5)
				w6 := misaligned(randQ6K(r, 4*nb), BlockQ6KSize, AsQ6K)
				var got6, twin6 [4]float32
				o.GemvQ6KQ8K4x1(w6, a, &got6)
				GemvQ6KQ8K4x1(w6, a, &twin6)
				for row := 0; row < 4; row++ {
					want := DotQ6KQ8K(w6[row*nb:(row+1)*nb], a)
					if got6[row] != want || twin6[row] != want {
						t.Fatalf("Q6_K nb=%d trial %d row %d: %v (twin %v), DotQ6KQ8K %v", nb, trial, row, got6[row], twin6[row], want)
					}
				}
				var got, twin [4]float32
				o.GemvQ4KQ8K4x1(w, a, &got)
				GemvQ4KQ8K4x1(w, a, &twin)
				for row := 0; row < 4; row++ {
					want := DotQ4KQ8K(w[row*nb:(row+1)*nb], a)
					if got[row] != want || twin[row] != want {
						t.Fatalf("nb=%d trial %d row %d: %v (twin %v), DotQ4KQ8K %v", nb, trial, row, got[row], twin[row], want)
					}
				}
			}
		}
	})
}

// Q8_0, F32 and F16 dots against their twins, exactly, on lengths that
// are and are not multiples of the kernels' step, misaligned.
func TestSmallDotsMatchTwins(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, n := range []int{1, 7, 8, 9, 31, 64, 100, 255, 4097} {
			w, a := randF32(r, n+1)[1:], randF32(r, n+1)[1:] // misaligned by one float
			if got, want := o.DotF32(w, a), DotF32(w, a); got != want {
				t.Fatalf("F32 n=%d: %v, twin %v", n, got, want)
			}
			wh, ah := make([]uint16, n), make([]uint16, n)
			ConvertRowF16(w, wh)
			ConvertRowF16(a, ah)
			if got, want := o.DotF16(wh, ah), DotF16(wh, ah); got != want {
				t.Fatalf("F16 n=%d: %v, twin %v", n, got, want)
			}
			y1, y2 := randF32(r, n+1)[1:], make([]float32, n)
			copy(y2, y1)
			o.AxpyF32(0.37, w, y1)
			AxpyF32(0.37, w, y2)
			for i := range y1 {
				if y1[i] != y2[i] {
					t.Fatalf("axpy n=%d at %d: %v, twin %v", n, i, y1[i], y2[i])
				}
			}
		}
		for _, nb := range []int{1, 2, 3, 8, 17, 128} {
			x := randF32(r, nb*QK8_0)
			w := make([]BlockQ8_0, nb)
			QuantizeRowQ8_0(x, w)
			w = misaligned(w, BlockQ8_0Size, AsQ8_0)
			for i := range x {
				x[i] = float32(r.NormFloat64()) * 1e3
			}
			a := make([]BlockQ8_0, nb)
			QuantizeRowQ8_0(x, a)
			if got, want := o.DotQ8_0Q8_0(w, a), DotQ8_0Q8_0(w, a); got != want {
				t.Fatalf("Q8_0 nb=%d: %v, twin %v", nb, got, want)
			}
		}
	})
}

// VerifyTwins, which the harness's phase check runs, passes on every
// table this CPU can run, and catches a kernel that is off by one float
// step.
func TestVerifyTwins(t *testing.T) {
	for _, isa := range ISAs() {
		if !isa.Supported {
			continue
		}
		o, err := Select(isa.Name, -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyTwins(o, 7); err != nil {
			t.Errorf("%s: %v", isa.Name, err)
		}
	}
	bad := GenericOps
	bad.DotQ6KQ8K = func(w []BlockQ6K, a []BlockQ8K) float32 {
		return math.Nextafter32(DotQ6KQ8K(w, a), float32(math.Inf(1)))
	}
	if err := VerifyTwins(&bad, 7); err == nil {
		t.Fatal("a Q6_K dot one float step off passed")
	}
	bad = GenericOps
	bad.GemmQ4KR4Q8K4x2 = func(w []BlockQ4KR4, a []BlockQ8K, stride int, out *[16]float32) {
		GemmQ4KR4Q8K4x2(w, a, stride, out)
		out[5] = math.Nextafter32(out[5], float32(math.Inf(1)))
	}
	if err := VerifyTwins(&bad, 7); err == nil {
		t.Fatal("a 2-column GEMM one float step off passed")
	}
	bad = GenericOps
	bad.DotQ8_0RowsHeads = func(dst []float32, n int, k []BlockQ8_0, stride int, q []BlockQ8_0, nq int) {
		DotQ8_0RowsHeads(dst, n, k, stride, q, nq)
		dst[len(dst)-1] *= 2 // the last head's last key
	}
	if err := VerifyTwins(&bad, 7); err == nil {
		t.Fatal("a group K·q kernel off on one key passed")
	}
}

// Every SIMD table names its own int8 roof (prefill is reported against
// the table that ran it), and the generic one has none.
func TestInt8PeakPerTable(t *testing.T) {
	for _, isa := range ISAs() {
		if !isa.Supported {
			continue
		}
		o, err := Select(isa.Name, -1)
		if err != nil {
			t.Fatal(err)
		}
		if o.ISA == "generic" {
			if o.Int8Peak != nil {
				t.Error("generic table has an int8 peak probe")
			}
			continue
		}
		if o.Int8Peak == nil {
			t.Errorf("%s: no int8 peak probe", o.ISA)
			continue
		}
		if macs, instr := o.Int8Peak(10); macs <= 0 || instr == "" {
			t.Errorf("%s: probe reports %d products of %q", o.ISA, macs, instr)
		}
	}
}

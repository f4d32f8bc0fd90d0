//go:build !purego

package kernels

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// The AVX-512 table picks the GFNI form of the repacked Q4_K GEMV where
// the CPU has GFNI; the form for AVX-512 CPUs without it (Skylake-SP,
// Cascade Lake) is tested here directly, so it does not go unrun on a
// machine that would never choose it (the GFNI form runs in
// TestGemvQ4KR4MatchesDot under the avx512 table).
func TestGemvQ4KR4AVX512WithoutGFNI(t *testing.T) {
	if ok, why := hasAVX512(); !ok {
		t.Skip(why)
	}
	checkGemvQ4KR4(t, rand.New(rand.NewPCG(63, 64)), gemvR4Slices[BlockQ4KR4](gemvQ4KR4Q8KAVX512, DefaultPrefetch, r4CallPlan(DefaultR4CallBlocks)))
}

// The call plans: equal calls where nb allows, never more than max
// blocks in a call, one call for max 0.
func TestR4CallPlan(t *testing.T) {
	for _, c := range []struct{ max, nb, calls int }{
		{8, 1, 1}, {8, 8, 1}, {8, 9, 2}, {8, 16, 2}, {8, 20, 4}, {8, 22, 3}, {8, 43, 6}, {8, 70, 10},
		{0, 43, 1}, {4, 22, 11}, {16, 43, 3}, {1, 5, 5},
		{8, 1024, 128}, {8, 1025, 205}, {8, 2000, 250}, // the table's last row, and past it
	} {
		n := r4CallPlan(c.max)(c.nb)
		if n != c.calls {
			t.Errorf("max %d, %d blocks: %d calls, want %d", c.max, c.nb, n, c.calls)
		}
		for i := 0; i < n; i++ {
			if k := (i+1)*c.nb/n - i*c.nb/n; c.max > 0 && k > c.max || k < 1 {
				t.Errorf("max %d, %d blocks: call %d takes %d", c.max, c.nb, i, k)
			}
		}
	}
}

// Every call plan gives the twin's sums, bit for bit (the tuner may
// choose any).
func TestGemvQ4KR4EveryCallPlan(t *testing.T) {
	if ok, why := hasAVX512(); !ok {
		t.Skip(why)
	}
	r := rand.New(rand.NewPCG(67, 68))
	for _, max := range []int{0, 1, 3, 5, 16} {
		ops, err := SelectTuned("avx512", Tuning{Prefetch: -1, R4CallBlocks: max})
		if err != nil {
			t.Fatal(err)
		}
		if ops.R4CallBlocks != max {
			t.Fatalf("table reports %d call blocks, built with %d", ops.R4CallBlocks, max)
		}
		checkGemvQ4KR4(t, r, ops.GemvQ4KR4Q8K4x1)
	}
}

// Likewise the AVX-VNNI table's form for CPUs without GFNI.
func TestGemvQ4KR4AVXVNNIWithoutGFNI(t *testing.T) {
	if ok, why := hasAVXVNNI(); !ok {
		t.Skip(why)
	}
	checkGemvQ4KR4(t, rand.New(rand.NewPCG(65, 66)), gemvR4Slices[BlockQ4KR4](gemvQ4KR4Q8KAVXVNNI, DefaultPrefetch, oneCall))
}

// An AVX-VNNI kernel must hold no EVEX (AVX-512) encoding: an Alder Lake
// faults on one, and a machine with AVX-512 runs it without complaint,
// so only the generated text can tell. The generator's vexVNNI rewrites
// every VNNI instruction of a function named AVXVNNI as VEX bytes.
func TestAVXVNNIKernelsAreVEX(t *testing.T) {
	src, err := os.ReadFile("dot_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	fn, seen := "", 0
	for _, line := range strings.Split(string(src), "\n") {
		if name, ok := strings.CutPrefix(line, "TEXT ·"); ok {
			fn, _, _ = strings.Cut(name, "(")
			if strings.Contains(fn, "AVXVNNI") {
				seen++
			}
			continue
		}
		if !strings.Contains(fn, "AVXVNNI") {
			continue
		}
		// Go's assembler encodes VPDPBUSD and VPDPWSSD only as EVEX (its
		// VGF2P8AFFINEQB on YMM is VEX already).
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "VPDP") {
			t.Errorf("%s: %q assembles as EVEX", fn, strings.TrimSpace(line))
		}
	}
	if seen < 7 {
		t.Fatalf("found %d AVX-VNNI kernels in dot_amd64.s", seen)
	}
}

// Every read probe, plain and prefetching, on every ISA this CPU has,
// equals the generic sum (the prefetches reach past the buffer's end,
// which must not fault).
func TestSumProbesMatchGenericOnEveryISA(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	probes := []struct {
		name string
		ok   func() (bool, string)
		f    func(b []byte) uint64
	}{
		{"avx2", hasAVX2, func(b []byte) uint64 { return sumU64AVX2(&b[0], len(b)) }},
		{"avx2-prefetch", hasAVX2, func(b []byte) uint64 { return sumU64PrefetchAVX2(&b[0], len(b), 6144) }},
		{"avx512", hasAVX512, func(b []byte) uint64 { return sumU64AVX512(&b[0], len(b)) }},
		{"avx512-prefetch", hasAVX512, func(b []byte) uint64 { return sumU64PrefetchAVX512(&b[0], len(b), 1<<20) }},
	}
	for _, n := range []int{512, 1536, 512 * 37} {
		b := make([]byte, n+1)[1:] // misaligned
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		want := sumU64Generic(b)
		for _, p := range probes {
			if ok, _ := p.ok(); !ok {
				continue
			}
			if got := p.f(b); got != want {
				t.Errorf("%s n=%d: %d, generic %d", p.name, n, got, want)
			}
		}
		if got := SumU64Prefetch(b, 4096); got != want {
			t.Errorf("SumU64Prefetch n=%d: %d, generic %d", n, got, want)
		}
	}
}

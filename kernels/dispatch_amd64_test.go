//go:build !purego

package kernels

import (
	"math/rand/v2"
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
	checkGemvQ4KR4(t, rand.New(rand.NewPCG(63, 64)), gemvR4Slices[BlockQ4KR4](gemvQ4KR4Q8KAVX512, DefaultPrefetch))
}

// Likewise the AVX-VNNI table's form for CPUs without GFNI.
func TestGemvQ4KR4AVXVNNIWithoutGFNI(t *testing.T) {
	if ok, why := hasAVXVNNI(); !ok {
		t.Skip(why)
	}
	checkGemvQ4KR4(t, rand.New(rand.NewPCG(65, 66)), gemvR4Slices[BlockQ4KR4](gemvQ4KR4Q8KAVXVNNI, DefaultPrefetch))
}

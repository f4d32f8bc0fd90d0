package stats

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// bruteSignedRankP enumerates every sign pattern of the mean ranks: the
// definition SignedRankP computes by dynamic programming.
func bruteSignedRankP(d []float64) float64 {
	var nz []float64
	for _, v := range d {
		if v != 0 {
			nz = append(nz, v)
		}
	}
	n := len(nz)
	if n == 0 {
		return 1
	}
	abs := make([]float64, n)
	for i, v := range nz {
		abs[i] = math.Abs(v)
	}
	sorted := append([]float64(nil), abs...)
	sort.Float64s(sorted)
	rank := make([]float64, n)
	for i, a := range abs {
		lo := sort.SearchFloat64s(sorted, a)
		hi := lo
		for hi < n && sorted[hi] == a {
			hi++
		}
		rank[i] = float64(lo+1+hi) / 2
	}
	w := 0.0
	for i, v := range nz {
		if v > 0 {
			w += rank[i]
		}
	}
	var below, above, all float64
	for mask := 0; mask < 1<<n; mask++ {
		s := 0.0
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				s += rank[i]
			}
		}
		all++
		if s <= w+1e-9 {
			below++
		}
		if s >= w-1e-9 {
			above++
		}
	}
	return math.Min(1, 2*math.Min(below, above)/all)
}

func TestSignedRankPIsTheExactTest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 300; trial++ {
		n := 1 + rng.IntN(12)
		d := make([]float64, n)
		for i := range d {
			d[i] = float64(rng.IntN(7)-3) + 0.3*rng.Float64()*float64(rng.IntN(2)) // ties and zeros
			if rng.IntN(4) == 0 {
				d[i] = math.Round(d[i])
			}
		}
		if got, want := SignedRankP(d), bruteSignedRankP(d); math.Abs(got-want) > 1e-12 {
			t.Fatalf("%v: p = %v, enumeration gives %v", d, got, want)
		}
	}
	// Known values: 8 differences of one sign reach 2/256.
	if p := SignedRankP([]float64{1, 2, 3, 4, 5, 6, 7, 8}); math.Abs(p-2.0/256) > 1e-15 || p != MinSignedRankP(8) {
		t.Fatalf("all positive: p = %v, want %v", p, 2.0/256)
	}
	// One negative of the smallest rank: 2·2/256.
	if p := SignedRankP([]float64{-1, 2, 3, 4, 5, 6, 7, 8}); math.Abs(p-4.0/256) > 1e-15 {
		t.Fatalf("one small negative: p = %v", p)
	}
	if SignedRankP(nil) != 1 || SignedRankP([]float64{0, 0}) != 1 {
		t.Fatal("no differences must give p = 1")
	}
}

// Past 400 pairs the normal approximation takes over; it must agree with
// the exact p at the seam.
func TestSignedRankPNormalSeam(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	d := make([]float64, 401)
	for i := range d {
		d[i] = rng.NormFloat64() + 0.1
	}
	approx := SignedRankP(d)
	exact := SignedRankP(d[:400])
	if math.Abs(approx-exact) > 0.02 {
		t.Fatalf("401 pairs (normal) p = %v against 400 (exact) %v", approx, exact)
	}
}

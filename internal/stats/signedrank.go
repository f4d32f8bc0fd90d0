package stats

import (
	"math"
	"sort"
)

// SignedRankP is the two-sided p-value of the Wilcoxon signed-rank test
// that the paired differences d are centred on zero: the test for
// samples taken in pairs (the gate's ABBA rounds), where each pair shares
// the host's state of its minutes and only the difference within a pair
// speaks of the code.
//
// Zero differences are dropped (Wilcoxon's rule) and tied magnitudes get
// their mean rank. The p-value is exact, from the distribution of the
// positive rank sum over all 2^n sign patterns (counted by dynamic
// programming on doubled ranks, which keeps mean ranks integral), up to
// 400 pairs; past that the normal approximation with the tie correction.
// With no differences left it is 1.
func SignedRankP(d []float64) float64 {
	var nz []float64
	for _, v := range d {
		if v != 0 && !math.IsNaN(v) {
			nz = append(nz, v)
		}
	}
	n := len(nz)
	if n == 0 {
		return 1
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return math.Abs(nz[idx[a]]) < math.Abs(nz[idx[b]]) })
	// Doubled ranks: a tie group of k values from rank r (1-based) has
	// mean rank r + (k-1)/2, doubled 2r + k - 1.
	rank2 := make([]int, n)
	var tieTerm float64 // Σ (k³ - k) over tie groups, for the normal form
	for i := 0; i < n; {
		j := i + 1
		for j < n && math.Abs(nz[idx[j]]) == math.Abs(nz[idx[i]]) {
			j++
		}
		k := j - i
		for m := i; m < j; m++ {
			rank2[idx[m]] = 2*(i+1) + k - 1
		}
		tieTerm += float64(k*k*k - k)
		i = j
	}
	wPlus2 := 0 // doubled positive rank sum
	for i, v := range nz {
		if v > 0 {
			wPlus2 += rank2[i]
		}
	}
	total2 := n * (n + 1) // doubled sum of all ranks
	if n > 400 {
		mean := float64(total2) / 4
		variance := float64(n*(n+1)*(2*n+1))/24 - tieTerm/48
		if variance <= 0 {
			return 1
		}
		z := (math.Abs(float64(wPlus2)/2-mean) - 0.5) / math.Sqrt(variance)
		return math.Min(1, math.Erfc(math.Max(z, 0)/math.Sqrt2))
	}
	// prob[s]: probability that the doubled positive rank sum is s when
	// each difference is positive or negative with probability 1/2.
	prob := make([]float64, total2+1)
	prob[0] = 1
	reach := 0
	for _, r := range rank2 {
		for s := reach; s >= 0; s-- {
			if prob[s] == 0 {
				continue
			}
			half := prob[s] / 2
			prob[s] = half
			prob[s+r] += half
		}
		reach += r
	}
	var below, above float64 // P(W ≤ w), P(W ≥ w)
	for s, p := range prob {
		if s <= wPlus2 {
			below += p
		}
		if s >= wPlus2 {
			above += p
		}
	}
	return math.Min(1, 2*math.Min(below, above))
}

// MinSignedRankP is the smallest two-sided p SignedRankP can give for n
// pairs: every difference of one sign, 2/2^n. At 8 pairs 0.0078.
func MinSignedRankP(n int) float64 {
	if n < 1 {
		return 1
	}
	return math.Min(1, 2/math.Pow(2, float64(n)))
}

package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSamplerGreedyAndDeterministic(t *testing.T) {
	logits := []float32{0.1, 3, 2.9, -1, 0.5}
	if id := NewSampler(SamplerOptions{}).Sample(logits); id != 1 {
		t.Fatalf("greedy picked %d", id)
	}
	o := SamplerOptions{Temperature: 1, TopK: 3, TopP: 1, Seed: 7}
	a, b := NewSampler(o), NewSampler(o)
	counts := map[int32]int{}
	for i := 0; i < 2000; i++ {
		x, y := a.Sample(logits), b.Sample(logits)
		if x != y {
			t.Fatal("same seed, different draws")
		}
		counts[x]++
	}
	if counts[3] != 0 || counts[0] != 0 || counts[4] == 0 { // top 3 are ids 1, 2, 4
		t.Fatalf("top-k 3 let through %v", counts)
	}
	if counts[1] < 700 || counts[2] < 600 {
		t.Fatalf("distribution off: %v", counts)
	}
	// min-p 0.5 keeps only tokens with p >= 0.5*pmax: 1 and 2 here.
	c := NewSampler(SamplerOptions{Temperature: 1, MinP: 0.5, TopP: 1, Seed: 1})
	for i := 0; i < 500; i++ {
		if id := c.Sample(logits); id != 1 && id != 2 {
			t.Fatalf("min-p let %d through", id)
		}
	}
	// top-p 0.5: token 1 alone carries ~0.5 of the mass after top-k... use a peaked row.
	d := NewSampler(SamplerOptions{Temperature: 1, TopP: 0.5, Seed: 1})
	for i := 0; i < 500; i++ {
		if id := d.Sample([]float32{10, 0, 0, 0}); id != 0 {
			t.Fatalf("top-p let %d through", id)
		}
	}
}

// distBySort is Dist as it was before top-k selection: every candidate
// sorted, then cut to k.
func distBySort(o SamplerOptions, logits []float32) []Candidate {
	var c []Candidate
	for i, v := range logits {
		c = append(c, Candidate{int32(i), float64(v)})
	}
	slices.SortFunc(c, candOrder)
	if o.TopK > 0 && o.TopK < len(c) {
		c = c[:o.TopK]
	}
	s := &Sampler{o: o, cand: c}
	o.TopK = 0 // c is already cut: Dist would sort the rest as before
	s.o = o
	return s.Dist(logitsOf(c))
}

// logitsOf is c's values as logits, in c's order (ids renumbered).
func logitsOf(c []Candidate) []float32 {
	l := make([]float32, len(c))
	for i, x := range c {
		l[i] = float32(x.P)
	}
	return l
}

// The k-entry heap keeps exactly the sort's first k, in its order, ties
// by id included: the distributions are identical, id for id and bit
// for bit.
func TestTopKSelectionEqualsFullSort(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for trial := 0; trial < 200; trial++ {
		n := 1 + r.IntN(3000)
		logits := make([]float32, n)
		for i := range logits {
			if r.IntN(4) == 0 {
				logits[i] = float32(r.IntN(5)) // ties
			} else {
				logits[i] = float32(r.NormFloat64() * 3)
			}
		}
		o := SamplerOptions{Temperature: 0.3 + r.Float64(), TopK: []int{2, 5, 40, n - 1, n, n + 3}[r.IntN(6)], TopP: []float64{1, 0.95, 0.5}[r.IntN(3)], MinP: []float64{0, 0.05}[r.IntN(2)]}
		if o.TopK < 2 {
			o.TopK = 2
		}
		got := append([]Candidate(nil), NewSampler(o).Dist(logits)...)
		want := distBySort(o, logits)
		// distBySort renumbered ids by rank: map them back.
		var ranked []Candidate
		for i, v := range logits {
			ranked = append(ranked, Candidate{int32(i), float64(v)})
		}
		slices.SortFunc(ranked, candOrder)
		if len(got) != len(want) {
			t.Fatalf("trial %d %+v: %d candidates, want %d", trial, o, len(got), len(want))
		}
		for i := range got {
			if id := ranked[want[i].ID].ID; got[i].ID != id || got[i].P != want[i].P {
				t.Fatalf("trial %d %+v: candidate %d is %v, want id %d p %v", trial, o, i, got[i], id, want[i].P)
			}
		}
	}
}

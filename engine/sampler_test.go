package engine

import "testing"

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

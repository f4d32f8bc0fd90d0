package stats

import "testing"

// Over n rounds every condition takes every place in the round once,
// and each round runs every condition.
func TestRoundOrderRotates(t *testing.T) {
	const n = 5
	seen := make([][n]int, n) // seen[size][place]
	for r := 1; r <= n; r++ {
		o := RoundOrder(n, r)
		ran := map[int]bool{}
		for place, i := range o {
			seen[i][place]++
			ran[i] = true
		}
		if len(ran) != n {
			t.Fatalf("round %d runs %v", r, o)
		}
	}
	for i := range seen {
		for place, c := range seen[i] {
			if c != 1 {
				t.Fatalf("size %d at place %d in %d of %d rounds", i, place, c, n)
			}
		}
	}
}

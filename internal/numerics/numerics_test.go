package numerics

import (
	"math"
	"testing"
)

func TestLogProb(t *testing.T) {
	// Uniform logits give every token log(1/n); a large offset changes
	// nothing (the maximum is subtracted first).
	x := make([]float32, 512)
	if got := LogProb(x, 7); math.Abs(got+math.Log(512)) > 1e-12 {
		t.Fatalf("uniform: %v", got)
	}
	y := []float32{1000, 1000 + float32(math.Log(3))}
	if got := LogProb(y, 1); math.Abs(got-math.Log(0.75)) > 1e-4 {
		t.Fatalf("two tokens, odds 3:1: %v, want %v", got, math.Log(0.75))
	}
}

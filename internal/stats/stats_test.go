package stats

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	x := []float64{5, 1, 3}
	if Median(x) != 3 || Median([]float64{4, 1, 3, 2}) != 2.5 || !math.IsNaN(Median(nil)) {
		t.Fatal("median")
	}
	if x[0] != 5 {
		t.Fatal("Median sorted its argument")
	}
}

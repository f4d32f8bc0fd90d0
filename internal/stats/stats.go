// Package stats holds the one summary every layer of the harness needs:
// the median, the center the reports and gates use because a shared
// VM's timings have long upper tails that pull a mean.
package stats

import (
	"math"
	"sort"
)

// Median of a sample; NaN for an empty one. x is not modified.
func Median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	y := append([]float64(nil), x...)
	sort.Float64s(y)
	if len(y)%2 == 1 {
		return y[len(y)/2]
	}
	return (y[len(y)/2-1] + y[len(y)/2]) / 2
}

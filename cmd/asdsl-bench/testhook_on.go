//go:build asdsl_testhook

package main

import (
	"os"
	"strconv"
)

// testSlowdown makes bench's timed repetitions ASDSL_TEST_SLOWDOWN times
// longer. Only binaries built with -tags asdsl_testhook have it: the
// gate's tests build one to prove that a 2x slower candidate is caught
// (harness/gate), and no release build can be slowed this way.
func testSlowdown() float64 {
	f, err := strconv.ParseFloat(os.Getenv("ASDSL_TEST_SLOWDOWN"), 64)
	if err != nil || f < 1 {
		return 0
	}
	return f
}

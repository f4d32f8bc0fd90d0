package roofline

import (
	"fmt"
	"testing"
)

// BenchmarkGEMVRoofline: Q4_K GEMV cycling through 768 MiB of distinct
// matrices, at 1 and 2 threads, with the read bandwidth measured in the
// same run, pass for pass (best of 24 each: the host's bandwidth drifts
// by tens of percent, and with 8 the best read pass was now and then
// 5% below the best GEMV pass). Reports GEMV GB/s, read GB/s and their
// ratio.
//
//	go test ./harness/roofline -run '^$' -bench Roofline -benchtime 1x
func BenchmarkGEMVRoofline(b *testing.B) {
	ms := Matrices(768<<20, 1)
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", th), func(b *testing.B) {
			var r Result
			for b.Loop() {
				var err error
				if r, err = Measure(ms, th, 24); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(r.GEMVGBs, "GEMV-GB/s")
			b.ReportMetric(r.ReadGBs, "read-GB/s")
			b.ReportMetric(r.Fraction, "frac-of-bw")
		})
	}
}

// The measurement machinery itself, on a small working set: it must
// produce positive figures (no assertion on speed).
func TestMeasureRuns(t *testing.T) {
	r, err := Measure(Matrices(8<<20, 2), 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.GEMVGBs <= 0 || r.ReadGBs <= 0 {
		t.Fatalf("%+v", r)
	}
}

package roofline

import (
	"fmt"
	"testing"

	"asdsl-bench/engine/gguf"
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

// BenchmarkGEMMRoofline: the same for the small batches of speculative
// verification, T = 1..8 token columns per product (the repacked
// GEMMs; T = 1 is the GEMV), at 1 and 2 threads, best of 12 passes
// each against the read bandwidth's, on Q4_K matrices and on Q6_K ones
// (a Q4_K_M model's V, FFN down and output). A batch whose arithmetic
// hides under the stream keeps the GEMV's GB/s; GB/s(T=1) / GB/s(T) is
// what a batch of T costs in decode steps, on the matmuls alone.
//
//	go test ./harness/roofline -run '^$' -bench GEMMRoofline -benchtime 1x
func BenchmarkGEMMRoofline(b *testing.B) {
	for _, typ := range []gguf.GGMLType{gguf.TypeQ4_K, gguf.TypeQ6_K} {
		ms := MatricesOf(typ, 768<<20, 1)
		for _, th := range []int{1, 2} {
			for _, T := range []int{1, 2, 3, 4, 8} {
				b.Run(fmt.Sprintf("%v/threads=%d/T=%d", typ, th, T), func(b *testing.B) {
					var r Result
					for b.Loop() {
						var err error
						if r, err = MeasureBatch(ms, th, T, 12); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(r.GEMVGBs, "GEMM-GB/s")
					b.ReportMetric(r.ReadGBs, "read-GB/s")
					b.ReportMetric(r.Fraction, "frac-of-bw")
				})
			}
		}
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

// A batch runs (engine's TestMulEachBatchMatchesMul checks that it gives
// each column the GEMV's product).
func TestMeasureBatchRuns(t *testing.T) {
	for _, typ := range []gguf.GGMLType{gguf.TypeQ4_K, gguf.TypeQ6_K} {
		ms := MatricesOf(typ, 1<<20, 3)
		if ms[0].Type != typ || ms[0].Q4KR4 == nil && ms[0].Q6KR4 == nil {
			t.Fatalf("%v: matrices not of the type, or not repacked: %+v", typ, ms[0])
		}
		r, err := MeasureBatch(ms, 2, 3, 1)
		if err != nil {
			t.Fatal(err)
		}
		if r.Tokens != 3 || r.GEMVGBs <= 0 || r.ReadGBs <= 0 {
			t.Fatalf("%v: %+v", typ, r)
		}
	}
}

// Package roofline measures how close the GEMV kernels come to the
// memory system's speed: decode is a stream of matrix-vector products
// that read every weight once, so achieved GB/s against the machine's
// measured read bandwidth is the figure of merit.
package roofline

import (
	"fmt"
	"math/rand/v2"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/harness/machine"
	"asdsl-bench/kernels"
)

// Shapes are the decode matrices of Llama-2-7B: attention (4096x4096),
// FFN up/gate (11008 rows of 4096) and FFN down (4096 rows of 11008).
var Shapes = [][2]int{{4096, 4096}, {11008, 4096}, {4096, 11008}}

// Matrices builds distinct Q4_K matrices (repacked for decode, as a
// session does) in the three shapes until they
// total at least bytes, so cycling through them defeats every cache.
// Contents are random blocks with sane fp16 scales.
func Matrices(bytes int64, seed uint64) []*engine.Matrix {
	return MatricesOf(gguf.TypeQ4_K, bytes, seed)
}

// MatricesOf is Matrices in weight type t: Q4_K or Q6_K (a Q4_K_M
// model's attention V, FFN down and output matrices, whose kernels
// differ).
func MatricesOf(t gguf.GGMLType, bytes int64, seed uint64) []*engine.Matrix {
	rng := rand.New(rand.NewPCG(seed, 7))
	var ms []*engine.Matrix
	var total int64
	for i := 0; total < bytes; i++ {
		s := Shapes[i%len(Shapes)]
		rows, cols := s[0], s[1]
		nb := cols / kernels.QK_K
		bs := blockSize(t)
		data := make([]byte, rows*nb*bs)
		for j := 0; j+8 <= len(data); j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8; k++ {
				data[j+k] = byte(v >> (8 * k))
			}
		}
		switch t {
		case gguf.TypeQ4_K:
			blocks := kernels.AsQ4K(data)
			for b := range blocks {
				blocks[b].D = kernels.F32ToFP16(1e-3 * (1 + rng.Float32()))
				blocks[b].Dmin = kernels.F32ToFP16(1e-3 * rng.Float32())
			}
		case gguf.TypeQ6_K:
			blocks := kernels.AsQ6K(data)
			for b := range blocks {
				blocks[b].D = kernels.F32ToFP16(1e-4 * (1 + rng.Float32()))
			}
		}
		m := &engine.Matrix{Name: fmt.Sprintf("w%d", i), Type: t, Rows: rows, Cols: cols,
			RowBytes: nb * bs, Data: data}
		// Decode's layout: rows repacked four at a time (exactly as many
		// bytes as the GGUF rows).
		m.RepackR4()
		ms = append(ms, m)
		total += int64(len(data))
	}
	return ms
}

// blockSize is the bytes of a super-block of t (Q4_K or Q6_K).
func blockSize(t gguf.GGMLType) int {
	if t == gguf.TypeQ6_K {
		return kernels.BlockQ6KSize
	}
	return kernels.BlockQ4KSize
}

// MatricesBytes is the total size Matrices(bytes, …) produces (whole
// matrices, so at least bytes).
func MatricesBytes(bytes int64) int64 {
	var total int64
	for i := 0; total < bytes; i++ {
		s := Shapes[i%len(Shapes)]
		total += int64(s[0] * (s[1] / kernels.QK_K) * kernels.BlockQ4KSize)
	}
	return total
}

// Result is one roofline measurement.
type Result struct {
	Threads   int
	Pinned    bool
	ISA       string
	Tokens    int     // activation columns per product (1: GEMV)
	GEMVGBs   float64 // weight bytes per second, best pass
	ReadGBs   float64 // measured read bandwidth, same threads, same run
	Fraction  float64 // GEMVGBs / ReadGBs
	WorkingMB int64
}

// Measure runs passes over the matrices with the given threads, each
// right after a pass of the read-bandwidth measurement over as many bytes
// (alternating, so both see the same state of a drifting host), and
// keeps the best of each. One GEMV pass before them warms up.
func Measure(ms []*engine.Matrix, threads, passes int) (Result, error) {
	return MeasureBatch(ms, threads, 1, passes)
}

// MeasureBatch is Measure for a batch of tokens activation columns per
// product (the small GEMMs of speculative verification). The weights are
// read once per pass whatever the batch, so GEMVGBs against ReadGBs says
// how much of the stream the batch's arithmetic costs: a batch that
// hides its multiply-adds under the stream keeps the GEMV's figure.
func MeasureBatch(ms []*engine.Matrix, threads, tokens, passes int) (Result, error) {
	var bytes int64
	for _, m := range ms {
		bytes += m.Bytes()
	}
	rd := machine.NewReader(threads, bytes)
	defer rd.Close()
	g, err := engine.NewGEMV(threads)
	if err != nil {
		return Result{}, err
	}
	defer g.Close()
	th, pinned := g.Threads()
	x := make([]float32, tokens*11008)
	for i := range x {
		x[i] = float32(i%17) - 8
	}
	out := make([]float32, tokens*11008)
	best, read := 0.0, 0.0
	for p := 0; p < passes+1; p++ {
		if p > 0 {
			g.Rest() // the GEMV's helpers would spin through the pass
			read = max(read, rd.PassEach())
		}
		t0 := time.Now()
		if err := g.MulEachBatch(out, ms, x, tokens); err != nil {
			return Result{}, err
		}
		if p > 0 {
			best = max(best, float64(bytes)/time.Since(t0).Seconds()/1e9)
		}
	}
	return Result{Threads: th, Pinned: pinned, ISA: kernels.Active().ISA, Tokens: tokens, GEMVGBs: best, ReadGBs: read,
		Fraction: best / read, WorkingMB: bytes >> 20}, nil
}

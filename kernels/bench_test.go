package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Quantizer and decoder throughput on 1M Gaussian weights: weights/s for
// the quantizers, and bytes of quantized input per second (SetBytes) for
// the decoders.
const benchN = 1 << 20

func BenchmarkQuantize(b *testing.B) {
	x := randF32(rand.New(rand.NewPCG(1, 1)), benchN)
	b.Run("Q4_K", func(b *testing.B) {
		out := make([]BlockQ4K, benchN/QK_K)
		for b.Loop() {
			QuantizeQ4K(x, out)
		}
		b.ReportMetric(float64(benchN)*float64(b.N)/b.Elapsed().Seconds(), "weights/s")
	})
	b.Run("Q5_K", func(b *testing.B) {
		out := make([]BlockQ5K, benchN/QK_K)
		for b.Loop() {
			QuantizeQ5K(x, out)
		}
		b.ReportMetric(float64(benchN)*float64(b.N)/b.Elapsed().Seconds(), "weights/s")
	})
	b.Run("Q6_K", func(b *testing.B) {
		out := make([]BlockQ6K, benchN/QK_K)
		for b.Loop() {
			QuantizeQ6K(x, out)
		}
		b.ReportMetric(float64(benchN)*float64(b.N)/b.Elapsed().Seconds(), "weights/s")
	})
	b.Run("Q8_0", func(b *testing.B) {
		out := make([]BlockQ8_0, benchN/QK8_0)
		for b.Loop() {
			QuantizeQ8_0(x, out)
		}
		b.ReportMetric(float64(benchN)*float64(b.N)/b.Elapsed().Seconds(), "weights/s")
	})
}

func BenchmarkDequant(b *testing.B) {
	x := randF32(rand.New(rand.NewPCG(1, 1)), benchN)
	y := make([]float32, benchN)
	q4 := make([]BlockQ4K, benchN/QK_K)
	QuantizeQ4K(x, q4)
	q6 := make([]BlockQ6K, benchN/QK_K)
	QuantizeQ6K(x, q6)
	q8 := make([]BlockQ8_0, benchN/QK8_0)
	QuantizeQ8_0(x, q8)
	b.Run("Q4_K", func(b *testing.B) {
		b.SetBytes(int64(len(q4) * BlockQ4KSize))
		for b.Loop() {
			DequantQ4K(q4, y)
		}
	})
	b.Run("Q6_K", func(b *testing.B) {
		b.SetBytes(int64(len(q6) * BlockQ6KSize))
		for b.Loop() {
			DequantQ6K(q6, y)
		}
	})
	b.Run("Q8_0", func(b *testing.B) {
		b.SetBytes(int64(len(q8) * BlockQ8_0Size))
		for b.Loop() {
			DequantQ8_0(q8, y)
		}
	})
}

// BenchmarkDotQ4K: one 4096-wide row (16 super-blocks) against Q8_K
// activations, cache-resident: the kernel's compute speed, in bytes of
// weights per second, per ISA.
func BenchmarkDotQ4K(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	w := randQ4K(r, 16*64)
	benchRowDots(b, r, BlockQ4KSize, func(o *Ops, row int, a []BlockQ8K) float32 {
		return o.DotQ4KQ8K(w[row*16:(row+1)*16], a)
	})
}

// BenchmarkDotQ5K: the same for Q5_K rows (llama.cpp's Q4_K_S and
// Q5_K_M recipes; the one-row dot is their decode kernel).
func BenchmarkDotQ5K(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	w := randQ5K(r, 16*64)
	benchRowDots(b, r, BlockQ5KSize, func(o *Ops, row int, a []BlockQ8K) float32 {
		return o.DotQ5KQ8K(w[row*16:(row+1)*16], a)
	})
}

// benchRowDots times 64 one-row dots of 16 super-blocks (blockSize bytes
// each) against one Q8_K row, per ISA, in weight bytes per second.
func benchRowDots(b *testing.B, r *rand.Rand, blockSize int, dot func(o *Ops, row int, a []BlockQ8K) float32) {
	const nb = 16
	a := make([]BlockQ8K, nb)
	QuantizeRowQ8K(randF32(r, nb*QK_K), a)
	eachISA(b, func(isa string, o *Ops) {
		b.Run(isa, func(b *testing.B) {
			b.SetBytes(int64(nb * blockSize * 64))
			var sink float32
			for b.Loop() {
				for row := 0; row < 64; row++ {
					sink += dot(o, row, a)
				}
			}
			_ = sink
		})
	})
}

// BenchmarkGemv4RowsQ4K: the same 64 rows as BenchmarkDotQ4K through the
// 4-row decode kernel (cache-resident: compute speed per ISA).
func BenchmarkGemv4RowsQ4K(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const nb = 16
	w := randQ4K(r, nb*64)
	a := make([]BlockQ8K, nb)
	QuantizeRowQ8K(randF32(r, nb*QK_K), a)
	eachISA(b, func(isa string, o *Ops) {
		b.Run(isa, func(b *testing.B) {
			b.SetBytes(nb * BlockQ4KSize * 64)
			var out [4]float32
			for b.Loop() {
				for row := 0; row < 64; row += 4 {
					o.GemvQ4KQ8K4x1(w[row*nb:(row+4)*nb], a, &out)
				}
			}
		})
	})
}

// BenchmarkGemvR4Q4K: the same 64 rows repacked as BlockQ4KR4 (weight
// bytes counted as Q4_K's, for comparison).
func BenchmarkGemvR4Q4K(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const nb = 16
	w := randQ4K(r, nb*64)
	rp := make([]BlockQ4KR4, nb*16)
	for g := 0; g < 16; g++ {
		RepackQ4KR4(w[4*g*nb:4*(g+1)*nb], rp[g*nb:(g+1)*nb])
	}
	a := make([]BlockQ8K, nb)
	QuantizeRowQ8K(randF32(r, nb*QK_K), a)
	eachISA(b, func(isa string, o *Ops) {
		b.Run(isa, func(b *testing.B) {
			b.SetBytes(nb * BlockQ4KSize * 64)
			var out [4]float32
			for b.Loop() {
				for g := 0; g < 16; g++ {
					o.GemvQ4KR4Q8K4x1(rp[g*nb:(g+1)*nb], a, &out)
				}
			}
		})
	})
}

// BenchmarkGemmQ4K: the 4-column kernel on a cache-resident row of 16
// super-blocks: per-call cost, per ISA, in weight bytes x columns / s.
func BenchmarkGemmQ4K(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const nb = 16
	w := randQ4K(r, nb)
	a := randQ8KCols(r, 4, nb)
	eachISA(b, func(isa string, o *Ops) {
		b.Run(isa, func(b *testing.B) {
			b.SetBytes(4 * nb * BlockQ4KSize)
			var out [4]float32
			for b.Loop() {
				o.GemmQ4KQ8K1x4(w, a, nb, &out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nb), "ns/block")
		})
	})
}

// BenchmarkGemmUnpackedQ4K: the 4-column kernel on an unpacked row, and
// the cost of unpacking, per ISA (cache-resident, 16 super-blocks).
func BenchmarkGemmUnpackedQ4K(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const nb = 16
	w := randQ4K(r, nb)
	u := make([]UnpackedQ4K, nb)
	a := randQ8KCols(r, 4, nb)
	eachISA(b, func(isa string, o *Ops) {
		o.UnpackQ4K(w, u)
		b.Run("gemm/"+isa, func(b *testing.B) {
			var out [4]float32
			for b.Loop() {
				o.GemmQ4KUnpackedQ8K1x4(u, a, nb, &out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nb), "ns/block")
		})
		b.Run("unpack/"+isa, func(b *testing.B) {
			for b.Loop() {
				o.UnpackQ4K(w, u)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nb), "ns/block")
		})
	})
}

// BenchmarkQuantizeRowQ8K: activation quantization, once per matmul input
// row (a 5120-wide Phi-4 row here), per ISA, in input bytes/s.
func BenchmarkQuantizeRowQ8K(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	const nb = 20
	x := randF32(r, nb*QK_K)
	out := make([]BlockQ8K, nb)
	eachISA(b, func(isa string, o *Ops) {
		b.Run(isa, func(b *testing.B) {
			b.SetBytes(nb * QK_K * 4)
			for b.Loop() {
				o.QuantizeRowQ8K(x, out)
			}
		})
	})
}

// BenchmarkSmallDots: the Q8_0 and F32 dot products (4096 wide,
// cache-resident) per ISA.
func BenchmarkSmallDots(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 4096
	x, y := randF32(r, n), randF32(r, n)
	w, a := make([]BlockQ8_0, n/QK8_0), make([]BlockQ8_0, n/QK8_0)
	QuantizeRowQ8_0(x, w)
	QuantizeRowQ8_0(y, a)
	eachISA(b, func(isa string, o *Ops) {
		var sink float32
		b.Run("Q8_0/"+isa, func(b *testing.B) {
			b.SetBytes(int64(len(w) * BlockQ8_0Size))
			for b.Loop() {
				sink += o.DotQ8_0Q8_0(w, a)
			}
		})
		b.Run("F32/"+isa, func(b *testing.B) {
			b.SetBytes(4 * n)
			for b.Loop() {
				sink += o.DotF32(x, y)
			}
		})
		_ = sink
	}, "avx2-float", "avxvnni")
}

// BenchmarkRepackQ4KR4: load-time repacking speed, in Q4_K bytes per second.
func BenchmarkRepackQ4KR4(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const nb = 16
	w := randQ4K(r, 4*nb)
	rp := make([]BlockQ4KR4, nb)
	b.SetBytes(4 * nb * BlockQ4KSize)
	for b.Loop() {
		RepackQ4KR4(w, rp)
	}
}

// BenchmarkGemmR4Q4K: the repacked 4-row × 4-column kernel, cache-resident
// (16 super-blocks), in ns per block per row per column, and its
// multiply-adds per second against the table's own int8 peak on this
// core (of-peak): in cache a kernel is bound by its instructions, and
// what it reaches here is the most it can keep up while streaming.
// With 2-8 token batches (speculative verification) that fraction
// decides whether the batch hides under a decode step's memory time.
func BenchmarkGemmR4Q4K(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const nb = 16
	w := randQ4K(r, 4*nb)
	rp := make([]BlockQ4KR4, nb)
	RepackQ4KR4(w, rp)
	a := randQ8KCols(r, 8, nb)
	eachISA(b, func(isa string, o *Ops) {
		if o.GemmQ4KR4Q8K4x4 == nil {
			return
		}
		peak := int8PeakOneCore(o)
		report := func(b *testing.B, cols int) { gemmMetrics(b, nb, cols, peak) }
		b.Run(isa, func(b *testing.B) {
			var out [16]float32
			for b.Loop() {
				o.GemmQ4KR4Q8K4x4(rp, a, nb, &out)
			}
			report(b, 4)
		})
		for _, k := range []struct {
			cols int
			f    func([]BlockQ4KR4, []BlockQ8K, int, *[16]float32)
		}{{2, o.GemmQ4KR4Q8K4x2}, {3, o.GemmQ4KR4Q8K4x3}} {
			if k.f == nil {
				continue
			}
			b.Run(fmt.Sprintf("%s-x%d", isa, k.cols), func(b *testing.B) {
				var out [16]float32
				for b.Loop() {
					k.f(rp, a, nb, &out)
				}
				report(b, k.cols)
			})
		}
		if o.GemmQ4KR4Q8K4x8 != nil {
			b.Run(isa+"-x8", func(b *testing.B) {
				out := make([]float32, 8*64)
				for b.Loop() {
					o.GemmQ4KR4Q8K4x8(rp, a, nb, out, 64)
				}
				report(b, 8)
			})
		}
	})
}

// gemmMetrics reports a 4-row GEMM benchmark of nb blocks by cols
// columns per call: ns per block, row and column, its multiply-adds per
// second and, with a peak (GMAC/s), their share of it.
func gemmMetrics(b *testing.B, nb, cols int, peak float64) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns/float64(nb*4*cols), "ns/block-row-col")
	gmacs := float64(nb*4*QK_K*cols) / ns
	b.ReportMetric(gmacs, "GMAC/s")
	if peak > 0 {
		b.ReportMetric(gmacs/peak, "of-peak")
	}
}

// int8PeakOneCore is the table's int8 peak on the calling thread in
// GMAC/s (best of five runs of a few milliseconds each: shorter ones
// read up to a fifth low), 0 where it has none.
func int8PeakOneCore(o *Ops) float64 {
	if o.Int8Peak == nil {
		return 0
	}
	const rounds = 1 << 21
	best := 0.0
	for range 5 {
		t0 := time.Now()
		macs, _ := o.Int8Peak(rounds)
		best = max(best, float64(macs)/float64(time.Since(t0).Nanoseconds()))
	}
	return best
}

// BenchmarkGemvQ6K: 64 Q6_K rows of 16 super-blocks, cache-resident,
// through the 4-row kernel on the GGUF layout and on the repacked one.
func BenchmarkGemvQ6K(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const nb = 16
	w := randQ6K(r, nb*64)
	rp := make([]BlockQ6KR4, nb*16)
	for g := 0; g < 16; g++ {
		RepackQ6KR4(w[4*g*nb:4*(g+1)*nb], rp[g*nb:(g+1)*nb])
	}
	a := make([]BlockQ8K, nb)
	QuantizeRowQ8K(randF32(r, nb*QK_K), a)
	eachISA(b, func(isa string, o *Ops) {
		var out [4]float32
		b.Run("gguf/"+isa, func(b *testing.B) {
			b.SetBytes(nb * BlockQ6KSize * 64)
			for b.Loop() {
				for g := 0; g < 16; g++ {
					o.GemvQ6KQ8K4x1(w[4*g*nb:4*(g+1)*nb], a, &out)
				}
			}
		})
		if o.GemvQ6KR4Q8K4x1 == nil {
			return
		}
		b.Run("repacked/"+isa, func(b *testing.B) {
			b.SetBytes(nb * BlockQ6KSize * 64)
			for b.Loop() {
				for g := 0; g < 16; g++ {
					o.GemvQ6KR4Q8K4x1(rp[g*nb:(g+1)*nb], a, &out)
				}
			}
		})
	}, "generic", "avx2-float")
}

// BenchmarkRepackQ6KR4: load-time repacking speed, in Q6_K bytes per second.
func BenchmarkRepackQ6KR4(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const nb = 16
	w := randQ6K(r, 4*nb)
	rp := make([]BlockQ6KR4, nb)
	b.SetBytes(4 * nb * BlockQ6KSize)
	for b.Loop() {
		RepackQ6KR4(w, rp)
	}
}

// BenchmarkGemmQ6K: 4 Q6_K rows × 4 tokens of 16 super-blocks, cache-
// resident: the 4-column kernel row by row on the GGUF layout, and the
// repacked 4×4 and 4×8 kernels, in ns per block·row·token, with the
// repacked ones' share of one core's int8 peak (as BenchmarkGemmR4Q4K).
func BenchmarkGemmQ6K(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const nb = 16
	w := randQ6K(r, 4*nb)
	rp := make([]BlockQ6KR4, nb)
	RepackQ6KR4(w, rp)
	a := randQ8KCols(r, 8, nb)
	eachISA(b, func(isa string, o *Ops) {
		b.Run("gguf/"+isa, func(b *testing.B) {
			var out [4]float32
			for b.Loop() {
				for row := 0; row < 4; row++ {
					o.GemmQ6KQ8K1x4(w[row*nb:(row+1)*nb], a, nb, &out)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nb*16), "ns/block-row-col")
		})
		if o.GemmQ6KR4Q8K4x4 == nil {
			return
		}
		peak := int8PeakOneCore(o)
		b.Run("repacked/"+isa, func(b *testing.B) {
			var out [16]float32
			for b.Loop() {
				o.GemmQ6KR4Q8K4x4(rp, a, nb, &out)
			}
			gemmMetrics(b, nb, 4, peak)
		})
		if o.GemmQ6KR4Q8K4x8 != nil {
			b.Run("repacked-x8/"+isa, func(b *testing.B) {
				out := make([]float32, 8*64)
				for b.Loop() {
					o.GemmQ6KR4Q8K4x8(rp, a, nb, out, 64)
				}
				gemmMetrics(b, nb, 8, peak)
			})
		}
	}, "generic", "avx2-float")
}

// eachISA runs f with every instruction set this CPU supports selected
// (except the named ones), then restores the previous choice.
func eachISA(b *testing.B, f func(isa string, o *Ops), skip ...string) {
	prev := active
	defer func() { active = prev }()
	for _, s := range ISAs() {
		if !s.Supported || slices.Contains(skip, s.Name) {
			continue
		}
		if err := Use(s.Name); err != nil {
			b.Fatal(err)
		}
		f(s.Name, Active())
	}
}

// randQ8KCols quantizes cols random activation columns of nb blocks each,
// laid out one after another (stride nb), as a batch's tokens are.
func randQ8KCols(r *rand.Rand, cols, nb int) []BlockQ8K {
	a := make([]BlockQ8K, cols*nb)
	for c := 0; c < cols; c++ {
		QuantizeRowQ8K(randF32(r, nb*QK_K), a[c*nb:(c+1)*nb])
	}
	return a
}

// BenchmarkGemmPanel: one 32-row panel of 16 super-blocks (4096
// columns, cache-resident) against four Q8_K columns, in the unit of
// BenchmarkGemmR4Q4K; and building the panel from Q4_K rows, per block
// and row (the cost a prompt pays once per 32 rows).
func BenchmarkGemmPanel(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const nb = 16
	w4, w6 := randQ4K(r, PanelRows*nb), randQ6K(r, PanelRows*nb)
	a := randQ8KCols(r, 4, nb)
	eachISA(b, func(isa string, o *Ops) {
		for _, typ := range []string{"q4_k", "q6_k"} {
			b.Run("build-"+typ+"-"+isa, func(b *testing.B) {
				var p Panel
				for b.Loop() {
					if typ == "q4_k" {
						o.PanelFromQ4K(&p, w4, nb)
					} else {
						o.PanelFromQ6K(&p, w6, nb)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nb*PanelRows), "ns/block-row")
			})
		}
	}, "avx2", "avxvnni", "avx2-float")
	r4 := make([]BlockQ4KR4, PanelRows/4*nb)
	r6 := make([]BlockQ6KR4, PanelRows/4*nb)
	for g := 0; g < PanelRows/4; g++ {
		RepackQ4KR4(w4[4*g*nb:4*(g+1)*nb], r4[g*nb:(g+1)*nb])
		RepackQ6KR4(w6[4*g*nb:4*(g+1)*nb], r6[g*nb:(g+1)*nb])
	}
	eachISA(b, func(isa string, o *Ops) {
		for _, typ := range []string{"q4_k_r4", "q6_k_r4"} {
			b.Run("build-"+typ+"-"+isa, func(b *testing.B) {
				var p Panel
				for b.Loop() {
					if typ == "q4_k_r4" {
						o.PanelFromQ4KR4(&p, r4, nb)
					} else {
						o.PanelFromQ6KR4(&p, r6, nb)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nb*PanelRows), "ns/block-row")
			})
		}
	}, "avx2-float")
	for _, typ := range []string{"q4_k", "q6_k"} {
		var p Panel
		if typ == "q4_k" {
			PanelFromQ4K(&p, w4, nb)
		} else {
			PanelFromQ6K(&p, w6, nb)
		}
		eachISA(b, func(isa string, o *Ops) {
			if o.GemmPanelQ8K32x4 == nil {
				return
			}
			b.Run(typ+"-"+isa, func(b *testing.B) {
				out := make([]float32, 4*PanelRows)
				for b.Loop() {
					o.GemmPanelQ8K32x4(&p, 0, nb, a, nb, out, PanelRows, false)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nb*PanelRows*4), "ns/block-row-col")
			})
		})
	}
}

// BenchmarkAxpyF32Rows: flash attention's weighted sum of a 64-key value
// tile into one query's output, for head sizes 64 and 128, per ISA.
func BenchmarkAxpyF32Rows(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{64, 128} {
		p, v, out := randF32(r, 64), randF32(r, 64*n), make([]float32, n)
		eachISA(b, func(isa string, o *Ops) {
			b.Run(fmt.Sprintf("head%d-%s", n, isa), func(b *testing.B) {
				for b.Loop() {
					o.AxpyF32Rows(out, p, v)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/key")
			})
		}, "avxvnni", "avx2-float")
	}
}

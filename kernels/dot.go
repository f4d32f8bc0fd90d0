package kernels

import "math"

// The dot products below follow ggml's vec_dot functions: integer sums
// inside a block (exact, so every SIMD twin must match them bit for bit),
// then one float multiply-add per block with the combined scales.

// DotQ4KQ8K returns the dot product of one Q4_K weight row and one Q8_K
// activation row of the same length.
func DotQ4KQ8K(w []BlockQ4K, a []BlockQ8K) float32 {
	var sum float32
	for i := range w {
		b, y := &w[i], &a[i]
		var sumi, summ int32
		for j := 0; j < 8; j++ {
			sc, m := ScaleMinK4(j, &b.Scales)
			// Sub-block j is the low (even j) or high (odd j) nibbles of qs[32*(j/2):].
			q := b.Qs[32*(j/2) : 32*(j/2)+32]
			shift := uint(4 * (j & 1))
			a8 := y.Qs[32*j : 32*j+32]
			var s int32
			for l := 0; l < 32; l++ {
				s += int32((q[l]>>shift)&0xF) * int32(a8[l])
			}
			sumi += int32(sc) * s
			summ += int32(m) * (int32(y.Bsums[2*j]) + int32(y.Bsums[2*j+1]))
		}
		// Explicit float32 conversions forbid fused multiply-adds, so the
		// SIMD kernels can reproduce this sum bit for bit.
		d := float32(FP16ToF32(b.D) * y.D)
		dmin := float32(FP16ToF32(b.Dmin) * y.D)
		sum += float32(d*float32(sumi)) - float32(dmin*float32(summ))
	}
	return sum
}

// DotQ5KQ8K returns the dot product of a Q5_K row and a Q8_K row.
func DotQ5KQ8K(w []BlockQ5K, a []BlockQ8K) float32 {
	var sum float32
	for i := range w {
		b, y := &w[i], &a[i]
		var sumi, summ int32
		for j := 0; j < 8; j++ {
			sc, m := ScaleMinK4(j, &b.Scales)
			q := b.Qs[32*(j/2) : 32*(j/2)+32]
			shift := uint(4 * (j & 1))
			a8 := y.Qs[32*j : 32*j+32]
			var s int32
			for l := 0; l < 32; l++ {
				v := (q[l]>>shift)&0xF | ((b.Qh[l]>>uint(j))&1)<<4
				s += int32(v) * int32(a8[l])
			}
			sumi += int32(sc) * s
			summ += int32(m) * (int32(y.Bsums[2*j]) + int32(y.Bsums[2*j+1]))
		}
		// As in DotQ4KQ8K: no fused multiply-adds, so the SIMD kernel's
		// sum is this one bit for bit on every architecture.
		d := float32(FP16ToF32(b.D) * y.D)
		dmin := float32(FP16ToF32(b.Dmin) * y.D)
		sum += float32(d*float32(sumi)) - float32(dmin*float32(summ))
	}
	return sum
}

// DotQ6KQ8K returns the dot product of a Q6_K row and a Q8_K row.
func DotQ6KQ8K(w []BlockQ6K, a []BlockQ8K) float32 {
	var sum float32
	for i := range w {
		b, y := &w[i], &a[i]
		var sumi int32
		for half := 0; half < 2; half++ {
			ql := b.Ql[64*half : 64*half+64]
			qh := b.Qh[32*half : 32*half+32]
			base := 128 * half
			for l := 0; l < 32; l++ {
				q1 := int32(ql[l]&0xF|(qh[l]&3)<<4) - 32
				q2 := int32(ql[l+32]&0xF|((qh[l]>>2)&3)<<4) - 32
				q3 := int32(ql[l]>>4|((qh[l]>>4)&3)<<4) - 32
				q4 := int32(ql[l+32]>>4|((qh[l]>>6)&3)<<4) - 32
				is := 8*half + l/16
				sumi += int32(b.Scales[is]) * q1 * int32(y.Qs[base+l])
				sumi += int32(b.Scales[is+2]) * q2 * int32(y.Qs[base+32+l])
				sumi += int32(b.Scales[is+4]) * q3 * int32(y.Qs[base+64+l])
				sumi += int32(b.Scales[is+6]) * q4 * int32(y.Qs[base+96+l])
			}
		}
		d := float32(FP16ToF32(b.D) * y.D)
		sum += float32(d * float32(sumi))
	}
	return sum
}

// DotQ8_0Q8_0 returns the dot product of two Q8_0 rows.
func DotQ8_0Q8_0(w []BlockQ8_0, a []BlockQ8_0) float32 {
	var sum float32
	for i := range w {
		var s int32
		for l := 0; l < QK8_0; l++ {
			s += int32(w[i].Qs[l]) * int32(a[i].Qs[l])
		}
		// float32(): no fused multiply-add (GOAMD64=v3 would allow one),
		// so the SIMD kernel's separate multiply and add match.
		sum += float32(float32(FP16ToF32(w[i].D)*FP16ToF32(a[i].D)) * float32(s))
	}
	return sum
}

// DotF32 returns the float32 dot product. Eight partial sums, as a SIMD
// register would keep, bound the rounding error on long rows.
func DotF32(w, a []float32) float32 {
	var s [8]float32
	n := len(w) &^ 7
	for i := 0; i < n; i += 8 {
		for k := 0; k < 8; k++ {
			s[k] += float32(w[i+k] * a[i+k]) // rounded product: no FMA
		}
	}
	dotF32Tail(w, a, n, &s)
	return sumLanes8(&s)
}

// sumLanes8 combines eight lane sums, the same way in every 8-lane twin
// and in the wrappers of their SIMD versions.
func sumLanes8(s *[8]float32) float32 {
	return (s[0] + s[4]) + (s[1] + s[5]) + (s[2] + s[6]) + (s[3] + s[7])
}

// dotF32Tail adds the products past n (the vector part's end) to lane 0.
func dotF32Tail(w, a []float32, n int, s *[8]float32) {
	for i := n; i < len(w); i++ {
		s[0] += float32(w[i] * a[i])
	}
}

// DotF16 returns the dot product of two fp16 rows, accumulated in float32.
func DotF16(w, a []uint16) float32 {
	var s [8]float32
	n := len(w) &^ 7
	for i := 0; i < n; i += 8 {
		for k := 0; k < 8; k++ {
			s[k] += float32(FP16ToF32(w[i+k]) * FP16ToF32(a[i+k]))
		}
	}
	dotF16Tail(w, a, n, &s)
	return sumLanes8(&s)
}

// dotF16Tail is dotF32Tail for fp16 rows.
func dotF16Tail(w, a []uint16, n int, s *[8]float32) {
	for i := n; i < len(w); i++ {
		s[0] += float32(FP16ToF32(w[i]) * FP16ToF32(a[i]))
	}
}

// DotBF16 returns the dot product of two bf16 rows, accumulated in float32.
func DotBF16(w, a []uint16) float32 {
	var s [8]float32
	n := len(w) &^ 7
	for i := 0; i < n; i += 8 {
		for k := 0; k < 8; k++ {
			s[k] += BF16ToF32(w[i+k]) * BF16ToF32(a[i+k])
		}
	}
	for i := n; i < len(w); i++ {
		s[0] += BF16ToF32(w[i]) * BF16ToF32(a[i])
	}
	return sumLanes8(&s)
}

// DotQ4KF32 is the seed's float formulation, the twin of the float
// variant kernel: weights are widened to float in registers and
// multiplied with unquantized float activations. With xsum[j] the sum of
// activation sub-block j (32 values), Σ (d·sc·q − dmin·m)·x =
// Σ_j d·sc_j·Σ q·x − dmin·m_j·xsum[j]. Eight float partial sums, one per
// SIMD lane (weight l of each group of eight), fused multiply-adds.
func DotQ4KF32(w []BlockQ4K, x []float32, xsum []float32) float32 {
	var total float32
	for i := range w {
		b := &w[i]
		d, dmin := FP16ToF32(b.D), FP16ToF32(b.Dmin)
		var blk float32
		for j := 0; j < 8; j++ {
			sc, m := ScaleMinK4(j, &b.Scales)
			q := b.Qs[32*(j/2) : 32*(j/2)+32]
			shift := uint(4 * (j & 1))
			xs := x[i*QK_K+32*j : i*QK_K+32*j+32]
			var lane [8]float32
			for l := 0; l < 32; l++ {
				lane[l%8] = fma32(float32((q[l]>>shift)&0xF), xs[l], lane[l%8])
			}
			dot := ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]))
			a, bm := float32(d*float32(sc)), float32(dmin*float32(m))
			blk += float32(a*dot) - float32(bm*xsum[8*i+j])
		}
		total += blk
	}
	return total
}

// SubBlockSums32 fills xsum[j] with the sum of x[32j:32j+32].
func SubBlockSums32(x, xsum []float32) {
	for j := range xsum {
		var s float32
		for _, v := range x[32*j : 32*j+32] {
			s += v
		}
		xsum[j] = s
	}
}

// FMA32 is fma32 for other packages (kernels/llamaorder).
func FMA32(a, b, c float32) float32 { return fma32(a, b, c) }

// fma32 is a·b+c rounded once to float32, as vfmadd231ps computes it.
// The product of two float32s is exact in float64; the float64 sum then
// rounds, and rounding that again to float32 can go the wrong way when
// it lands exactly halfway between two float32s (double rounding). In
// that case the float64 sum is moved one ulp toward the exact value,
// known from the sum's exact error (TwoSum).
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	s := p + float64(c)
	t := s - p
	e := (p - (s - t)) + (float64(c) - t) // p + c == s + e exactly
	if e != 0 {
		bits := math.Float64bits(s)
		const low = 1<<29 - 1 // the bits float32 drops from a normal float64
		if bits&low == 1<<28 {
			if (e > 0) == (s > 0) {
				bits++
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}

// AxpyF32 adds a·x to y element by element (len(y) >= len(x)): the
// attention's weighted sum of value rows. Each element is rounded as
// written (float32 product, then sum), so SIMD versions equal it exactly.
func AxpyF32(a float32, x, y []float32) {
	y = y[:len(x)]
	for i := range x {
		y[i] += float32(a * x[i])
	}
}

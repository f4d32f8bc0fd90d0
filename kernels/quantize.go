package kernels

import "math"

// Weight quantizers: float32 rows to Q4_K, Q6_K and Q8_0 blocks. The
// search for each sub-block's scale and min follows llama.cpp's reference
// quantizer without an importance matrix (studied, then written anew):
// start from the min/max grid, then try a few nearby scales and keep the
// one with the smallest weighted squared error. All arithmetic is float32,
// as in the C code, so the output can match llama-quantize byte for byte.

const groupMaxEps = 1e-15

// nearestInt rounds half to even, like ggml's nearest_int (the 1.5*2^23
// trick) and vcvtps2dq under the default rounding mode.
func nearestInt(f float32) int32 { return int32(math.RoundToEven(float64(f))) }

func clampI(v, lo, hi int32) int32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// fitScaleMin finds scale and min (x ≈ scale*L + min, L in 0..nmax,
// min <= 0) minimising Σ w·(scale*L+min-x)². It returns scale and -min.
func fitScaleMin(x, w []float32, L, aux []uint8, nmax int32, rmin, rdelta float32, nstep int) (float32, float32) {
	n := len(x)
	mn, mx := x[0], x[0]
	sumW, sumX := w[0], w[0]*x[0]
	for i := 1; i < n; i++ {
		mn = min(mn, x[i])
		mx = max(mx, x[i])
		sumW += w[i]
		sumX += w[i] * x[i]
	}
	if mn > 0 {
		mn = 0
	}
	if mx == mn {
		clear(L[:n])
		return 0, -mn
	}
	iscale := float32(nmax) / (mx - mn)
	scale := 1 / iscale
	var bestErr float32
	for i := range x {
		l := clampI(nearestInt(iscale*(x[i]-mn)), 0, nmax)
		L[i] = uint8(l)
		d := scale*float32(l) + mn - x[i]
		bestErr += w[i] * d * d
	}
	for is := 0; is <= nstep; is++ {
		iscale = (rmin + rdelta*float32(is) + float32(nmax)) / (mx - mn)
		var sumL, sumL2, sumXL float32
		for i := range x {
			l := clampI(nearestInt(iscale*(x[i]-mn)), 0, nmax)
			aux[i] = uint8(l)
			fl := float32(l)
			sumL += w[i] * fl
			sumL2 += w[i] * fl * fl
			sumXL += w[i] * fl * x[i]
		}
		D := sumW*sumL2 - sumL*sumL
		if D <= 0 {
			continue
		}
		thisScale := (sumW*sumXL - sumX*sumL) / D
		thisMin := (sumL2*sumX - sumL*sumXL) / D
		if thisMin > 0 {
			thisMin = 0
			thisScale = sumXL / sumL2
		}
		var cur float32
		for i := range x {
			d := thisScale*float32(aux[i]) + thisMin - x[i]
			cur += w[i] * d * d
		}
		if cur < bestErr {
			copy(L[:n], aux[:n])
			bestErr, scale, mn = cur, thisScale, thisMin
		}
	}
	return scale, -mn
}

// kQuantScaleMin is the shared part of Q4_K and Q5_K: fit a scale and
// min to each of the 8 sub-blocks of 32 (weights av|x| + |x| favour the
// large values), quantize those to 6 bits under two fp16 super-scales,
// then recompute every weight's level 0..nmax against the rounded scales.
func kQuantScaleMin(xb []float32, nmax int32, rmin float32, nstep int, scalesOut *[12]uint8, dOut, dminOut *uint16, L *[QK_K]uint8) {
	var aux [32]uint8
	var w [32]float32
	var scales, mins [8]float32
	var maxScale, maxMin float32
	for j := 0; j < 8; j++ {
		sub := xb[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range sub {
			sumX2 += v * v
		}
		av := float32(math.Sqrt(float64(sumX2 / 32)))
		for l, v := range sub {
			w[l] = av + float32(math.Abs(float64(v)))
		}
		scales[j], mins[j] = fitScaleMin(sub, w[:], L[32*j:32*j+32], aux[:], nmax, rmin, 0.1, nstep)
		maxScale = max(maxScale, scales[j])
		maxMin = max(maxMin, mins[j])
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	*scalesOut = [12]uint8{}
	for j := 0; j < 8; j++ {
		ls := uint8(min(63, nearestInt(invScale*scales[j])))
		lm := uint8(min(63, nearestInt(invMin*mins[j])))
		if j < 4 {
			scalesOut[j] = ls
			scalesOut[j+4] = lm
		} else {
			scalesOut[j+4] = ls&0xF | (lm&0xF)<<4
			scalesOut[j-4] |= (ls >> 4) << 6
			scalesOut[j] |= (lm >> 4) << 6
		}
	}
	*dOut = F32ToFP16(maxScale / 63)
	*dminOut = F32ToFP16(maxMin / 63)
	for j := 0; j < 8; j++ {
		sc, m := ScaleMinK4(j, scalesOut)
		d := FP16ToF32(*dOut) * float32(sc)
		if d == 0 {
			continue
		}
		dm := FP16ToF32(*dminOut) * float32(m)
		for ii := 0; ii < 32; ii++ {
			L[32*j+ii] = uint8(clampI(nearestInt((xb[32*j+ii]+dm)/d), 0, nmax))
		}
	}
}

// QuantizeQ4K encodes x (len 256*len(out)) as Q4_K blocks.
func QuantizeQ4K(x []float32, out []BlockQ4K) {
	var L [QK_K]uint8
	for i := range out {
		y := &out[i]
		kQuantScaleMin(x[i*QK_K:(i+1)*QK_K], 15, -1, 20, &y.Scales, &y.D, &y.Dmin, &L)
		for j := 0; j < 4; j++ {
			for l := 0; l < 32; l++ {
				y.Qs[32*j+l] = L[64*j+l] | L[64*j+32+l]<<4
			}
		}
	}
}

// QuantizeQ5K encodes x (len 256*len(out)) as Q5_K blocks: levels 0..31,
// the fifth bit of each going to Qh.
func QuantizeQ5K(x []float32, out []BlockQ5K) {
	var L [QK_K]uint8
	for i := range out {
		y := &out[i]
		kQuantScaleMin(x[i*QK_K:(i+1)*QK_K], 31, -0.5, 15, &y.Scales, &y.D, &y.Dmin, &L)
		y.Qh = [32]uint8{}
		for j := 0; j < 4; j++ {
			for l := 0; l < 32; l++ {
				lo, hi := L[64*j+l], L[64*j+32+l]
				y.Qh[l] |= (lo>>4)<<(2*j) | (hi>>4)<<(2*j+1)
				y.Qs[32*j+l] = lo&0xF | (hi&0xF)<<4
			}
		}
	}
}

// fitSymmetric finds a scale for x ≈ scale*(L-nmax), L in 0..2*nmax-1,
// weighting each value by x² and trying 18 scales around nmax/max.
func fitSymmetric(x []float32, L []uint8, nmax int32) float32 {
	var mx, amax float32
	for _, v := range x {
		if a := float32(math.Abs(float64(v))); a > amax {
			amax, mx = a, v
		}
	}
	if amax < groupMaxEps {
		clear(L[:len(x)])
		return 0
	}
	quant := func(iscale float32, store bool) (sumLX, sumL2 float32) {
		for i, v := range x {
			l := clampI(nearestInt(iscale*v), -nmax, nmax-1)
			if store {
				L[i] = uint8(l + nmax)
			}
			w := v * v
			sumLX += w * v * float32(l)
			sumL2 += w * float32(l) * float32(l)
		}
		return
	}
	sumLX, sumL2 := quant(-float32(nmax)/mx, true)
	var scale float32
	if sumL2 != 0 {
		scale = sumLX / sumL2
	}
	best := scale * sumLX
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale := -(float32(nmax) + 0.1*float32(is)) / mx
		sumLX, sumL2 = quant(iscale, false)
		if sumL2 > 0 && sumLX*sumLX > best*sumL2 {
			quant(iscale, true)
			scale = sumLX / sumL2
			best = scale * sumLX
		}
	}
	return scale
}

// QuantizeQ6K encodes x (len 256*len(out)) as Q6_K blocks.
func QuantizeQ6K(x []float32, out []BlockQ6K) {
	var L [QK_K]uint8
	var scales [16]float32
	for i := range out {
		xb := x[i*QK_K : (i+1)*QK_K]
		y := &out[i]
		*y = BlockQ6K{}
		var maxScale, maxAbs float32
		for ib := 0; ib < 16; ib++ {
			scales[ib] = fitSymmetric(xb[16*ib:16*ib+16], L[16*ib:16*ib+16], 32)
			if a := float32(math.Abs(float64(scales[ib]))); a > maxAbs {
				maxAbs, maxScale = a, scales[ib]
			}
		}
		if maxAbs < groupMaxEps {
			continue
		}
		iscale := -128 / maxScale
		y.D = F32ToFP16(1 / iscale)
		for ib := 0; ib < 16; ib++ {
			y.Scales[ib] = int8(min(127, nearestInt(iscale*scales[ib])))
		}
		for j := 0; j < 16; j++ {
			d := FP16ToF32(y.D) * float32(y.Scales[j])
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = uint8(clampI(nearestInt(xb[16*j+ii]/d), -32, 31) + 32)
			}
		}
		for half := 0; half < 2; half++ {
			Lh := L[128*half:]
			ql := y.Ql[64*half:]
			qh := y.Qh[32*half:]
			for l := 0; l < 32; l++ {
				ql[l] = Lh[l]&0xF | (Lh[l+64]&0xF)<<4
				ql[l+32] = Lh[l+32]&0xF | (Lh[l+96]&0xF)<<4
				qh[l] = Lh[l]>>4 | (Lh[l+32]>>4)<<2 | (Lh[l+64]>>4)<<4 | (Lh[l+96]>>4)<<6
			}
		}
	}
}

// QuantizeQ8_0 encodes weights as Q8_0 the reference way: d = amax/127,
// values rounded half away from zero.
func QuantizeQ8_0(x []float32, out []BlockQ8_0) {
	for i := range out {
		xb := x[i*QK8_0 : (i+1)*QK8_0]
		var amax float32
		for _, v := range xb {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		out[i].D = F32ToFP16(d)
		for j, v := range xb {
			out[i].Qs[j] = int8(math.Round(float64(v * id)))
		}
	}
}

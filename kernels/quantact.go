package kernels

import "math"

// QuantizeRowQ8K quantizes activations to Q8_K the way ggml's
// quantize_row_q8_K_ref does: the scale maps the value of largest
// magnitude to -127 (sign kept in d), values round half to even, and the
// sums of each 16 are stored for the Q4_K min correction.
// len(x) must be 256*len(out).
func QuantizeRowQ8K(x []float32, out []BlockQ8K) {
	for i := range out {
		xb := x[i*QK_K : (i+1)*QK_K]
		y := &out[i]
		var amax, max float32
		for _, v := range xb {
			if a := float32(math.Abs(float64(v))); a > amax {
				amax, max = a, v
			}
		}
		if amax == 0 {
			*y = BlockQ8K{}
			continue
		}
		iscale := -127 / max
		for j, v := range xb {
			q := nearestInt(iscale * v)
			if q > 127 {
				q = 127
			}
			y.Qs[j] = int8(q)
		}
		for j := 0; j < 16; j++ {
			var s int16
			for _, q := range y.Qs[16*j : 16*j+16] {
				s += int16(q)
			}
			y.Bsums[j] = s
		}
		y.D = 1 / iscale
	}
}

// QuantizeRowQ8_0 quantizes activations to Q8_0 as ggml's x86 path does:
// d = amax/127 stored as fp16, values scaled by 127/amax and rounded half
// to even. len(x) must be 32*len(out).
func QuantizeRowQ8_0(x []float32, out []BlockQ8_0) {
	for i := range out {
		xb := x[i*QK8_0 : (i+1)*QK8_0]
		var amax float32
		for _, v := range xb {
			if a := float32(math.Abs(float64(v))); a > amax {
				amax = a
			}
		}
		d := amax / 127
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		out[i].D = F32ToFP16(d)
		for j, v := range xb {
			out[i].Qs[j] = int8(nearestInt(v * id))
		}
	}
}

// ConvertRowF16 rounds activations to fp16, the vec_dot_type of F16 weights.
func ConvertRowF16(x []float32, out []uint16) {
	for i, v := range x {
		out[i] = F32ToFP16(v)
	}
}

// ConvertRowBF16 rounds activations to bf16, the vec_dot_type of BF16 weights.
func ConvertRowBF16(x []float32, out []uint16) {
	for i, v := range x {
		out[i] = F32ToBF16(v)
	}
}

package kernels

import "math"

// Flash attention's kernels over an int8 (Q8_0) KV cache, as Go twins.
// The SIMD versions (AVX2; the AVX-512 and AVX-VNNI tables share them)
// repeat this arithmetic operation by operation, so they are
// bit-identical: every product is rounded before it is added (no fused
// multiply-add) and sums run in the order written here.

// DotQ8_0Rows scores one quantized query against rows of a Q8_0 key
// cache: dst[j] = DotQ8_0Q8_0(k[j·stride : j·stride+len(q)], q) for
// j < len(dst). stride is in blocks (a cache row holds every KV head).
func DotQ8_0Rows(dst []float32, k []BlockQ8_0, stride int, q []BlockQ8_0) {
	for j := range dst {
		dst[j] = DotQ8_0Q8_0(k[j*stride:j*stride+len(q)], q)
	}
}

// DotQ8_0RowsHeads scores nq quantized queries (q holds them one after
// another, len(q)/nq blocks each: the heads of a GQA group) against n
// key rows: dst[h·n + j] = DotQ8_0Q8_0(k[j·stride:], query h). Decode
// attention reads each key once for all the group's heads.
func DotQ8_0RowsHeads(dst []float32, n int, k []BlockQ8_0, stride int, q []BlockQ8_0, nq int) {
	eachHeadDots(DotQ8_0Rows, dst, n, k, stride, q, nq)
}

// The group kernels' twins are their one-head kernels head by head;
// eachHead* are those loops, also what the SIMD tables use where they
// have no group kernel (or a head count or size their kernel refuses).

func eachHeadDots(one func(dst []float32, k []BlockQ8_0, stride int, q []BlockQ8_0), dst []float32, n int, k []BlockQ8_0, stride int, q []BlockQ8_0, nq int) {
	nb := len(q) / nq
	for h := 0; h < nq; h++ {
		one(dst[h*n:(h+1)*n], k, stride, q[h*nb:(h+1)*nb])
	}
}

func eachHeadExpSub(one func(x []float32, m float32) float32, x []float32, nh int, m, sums []float32) {
	n := len(x) / nh
	for h := 0; h < nh; h++ {
		sums[h] = one(x[h*n:(h+1)*n], m[h])
	}
}

func eachHeadScaleMax(one func(x []float32, scale, m float32) float32, x []float32, nh int, scale float32, m, mt []float32) {
	n := len(x) / nh
	for h := 0; h < nh; h++ {
		mt[h] = one(x[h*n:(h+1)*n], scale, m[h])
	}
}

func eachHeadAxpy(one func(out, p, v []float32), out []float32, nh int, p, v []float32) {
	hd, rows := len(out)/nh, len(p)/nh
	for h := 0; h < nh; h++ {
		one(out[h*hd:(h+1)*hd], p[h*rows:(h+1)*rows], v[:rows*hd])
	}
}

// ExpSubF32 replaces x[i] by exp(x[i] − m) (ExpF32) and returns their
// sum, kept as eight partial sums the way an 8-lane register keeps them
// (the tail goes to lane 0), combined as DotF32 combines its lanes.
// Online softmax calls it with m the running maximum, so every argument
// is ≤ 0.
func ExpSubF32(x []float32, m float32) float32 {
	var s [8]float32
	n := len(x) &^ 7
	for i := 0; i < n; i += 8 {
		for k := 0; k < 8; k++ {
			e := ExpF32(x[i+k] - m)
			x[i+k] = e
			s[k] += e
		}
	}
	expSubTail(x, n, m, &s)
	return sumLanes8(&s)
}

// ExpSubF32Heads is ExpSubF32 for each of nh heads' scores (x holds
// them one after another, len(x)/nh each) against that head's m[h]:
// sums[h] = ExpSubF32(head h's scores, m[h]).
func ExpSubF32Heads(x []float32, nh int, m, sums []float32) {
	eachHeadExpSub(ExpSubF32, x, nh, m, sums)
}

// expSubTail does ExpSubF32's values past n, summed into lane 0.
func expSubTail(x []float32, n int, m float32, s *[8]float32) {
	for i := n; i < len(x); i++ {
		e := ExpF32(x[i] - m)
		x[i] = e
		s[0] += e
	}
}

// Constants of ExpF32: Cody–Waite reduction by ln 2 in two parts (the
// first has few enough bits that n·expC1 is exact) and Cephes' expf
// polynomial, accurate to about 2 ulp over the reduced range.
const (
	expLo   = -87.0 // exp(−87) is still a normal float32
	expHi   = 88.0
	expLog2 = 1.44269504088896341
	expC1   = 0.693359375
	expC2   = -2.12194440e-4
	expP0   = 1.9875691500e-4
	expP1   = 1.3981999507e-3
	expP2   = 8.3334519073e-3
	expP3   = 4.1665795894e-2
	expP4   = 1.6666665459e-1
	expP5   = 5.0000001201e-1
)

// ExpF32 is the exponential used by attention's softmax, written as the
// SIMD kernel computes it: clamp, n = round-half-even(x·log2 e),
// r = x − n·ln2 in two parts, a degree-7 polynomial, times 2^n built in
// the exponent bits. Every step is one float32 operation.
func ExpF32(x float32) float32 {
	if expLo > x { // written as the kernel's max/min, so NaN passes through
		x = expLo
	}
	if expHi < x {
		x = expHi
	}
	n := float32(math.RoundToEven(float64(float32(x * expLog2))))
	r := x - float32(n*expC1)
	r = r - float32(n*expC2)
	p := float32(expP0)
	p = float32(p*r) + expP1
	p = float32(p*r) + expP2
	p = float32(p*r) + expP3
	p = float32(p*r) + expP4
	p = float32(p*r) + expP5
	r2 := float32(r * r)
	y := float32(p*r2) + r
	y = y + 1
	return float32(y * math.Float32frombits(uint32(int32(n)+127)<<23))
}

// Hadamard multiplies x, block by block of n values (a power of two,
// at least 16), by the Sylvester-Hadamard matrix H_n/√n:
// H[i][j] = (−1)^popcount(i&j). The fast transform needs n·log2(n) adds
// (butterflies in order h = 1, 2, 4, ...), then one multiply per value;
// H_n/√n is its own inverse. Attention rotates keys, queries and values
// with it before they are quantized (engine/flash.go).
func Hadamard(x []float32, n int) {
	norm := float32(1 / math.Sqrt(float64(n)))
	for b := 0; b+n <= len(x); b += n {
		y := x[b : b+n]
		for h := 1; h < n; h *= 2 {
			for i := 0; i < n; i += 2 * h {
				for j := i; j < i+h; j++ {
					a, c := y[j], y[j+h]
					y[j], y[j+h] = a+c, a-c
				}
			}
		}
		for i := range y {
			y[i] *= norm
		}
	}
}

// SwiGLU replaces gate[i] by silu(gate[i])·up[i], the gated FFN's
// activation, with silu(x) = x / (1 + ExpF32(−x)): one rounding per
// operation, so the SIMD version is bit-identical.
func SwiGLU(gate, up []float32) {
	up = up[:len(gate)]
	for i, x := range gate {
		e := ExpF32(-x)
		gate[i] = float32(x/(1+e)) * up[i]
	}
}

// ScaleMaxF32 multiplies x by scale in place and returns the largest of
// m and the scaled values: attention's score scaling fused with the
// running maximum of online softmax. The maximum is taken as the SIMD
// max instruction does, c = (c > v) ? c : v, in eight lanes (the tail
// goes to lane 0), the lanes then folded in order into m.
func ScaleMaxF32(x []float32, scale, m float32) float32 {
	var c [8]float32
	for k := range c {
		c[k] = m
	}
	n := len(x) &^ 7
	for i := 0; i < n; i += 8 {
		for k := 0; k < 8; k++ {
			x[i+k] *= scale
			c[k] = maxLane(c[k], x[i+k])
		}
	}
	return scaleMaxTail(x, n, scale, &c)
}

// ScaleMaxF32Heads is ScaleMaxF32 for each of nh heads' scores (x
// holds them one after another): mt[h] = ScaleMaxF32(head h's scores,
// scale, m[h]).
func ScaleMaxF32Heads(x []float32, nh int, scale float32, m, mt []float32) {
	eachHeadScaleMax(ScaleMaxF32, x, nh, scale, m, mt)
}

// scaleMaxTail does ScaleMaxF32's values past n in lane 0, then folds
// the lanes in order.
func scaleMaxTail(x []float32, n int, scale float32, c *[8]float32) float32 {
	for i := n; i < len(x); i++ {
		x[i] *= scale
		c[0] = maxLane(c[0], x[i])
	}
	for k := 1; k < 8; k++ {
		c[0] = maxLane(c[0], c[k])
	}
	return c[0]
}

// maxLane is vmaxps's rule for one lane: c if c > v, else v.
func maxLane(c, v float32) float32 {
	if c > v {
		return c
	}
	return v
}

// AxpyF32RowsHeads is AxpyF32Rows for each of nh query heads over the
// same value rows: out holds the heads' outputs one after another
// (len(out)/nh values each), p their weights (len(p)/nh per head, one
// per row of v). Each head's sums run exactly as AxpyF32Rows's.
func AxpyF32RowsHeads(out []float32, nh int, p []float32, v []float32) {
	eachHeadAxpy(AxpyF32Rows, out, nh, p, v)
}

// DequantQ8_0Rows widens rows Q8_0 value rows (row j at v[j·stride:], n
// values each, n a multiple of 32) into dst[j·n:]: d·q rounded once.
// Flash attention does it once per value tile and KV head, for every
// query head of the group.
func DequantQ8_0Rows(dst []float32, v []BlockQ8_0, stride, rows, n int) {
	nb := n / QK8_0
	for j := 0; j < rows; j++ {
		for b, blk := range v[j*stride : j*stride+nb] {
			d := FP16ToF32(blk.D)
			o := dst[j*n+b*QK8_0 : j*n+(b+1)*QK8_0]
			for i, q := range blk.Qs {
				o[i] = float32(d * float32(q))
			}
		}
	}
}

// AxpyF32Rows adds the p-weighted rows of v (row j at v[j·len(out):]) to
// out, row by row in order: out[i] += p[j]·v[j][i], the product rounded
// before the sum (no fused multiply-add).
func AxpyF32Rows(out []float32, p []float32, v []float32) {
	n := len(out)
	for j, pj := range p {
		row := v[j*n : (j+1)*n]
		for i, x := range row {
			out[i] += float32(pj * x)
		}
	}
}

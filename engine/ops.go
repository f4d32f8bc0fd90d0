package engine

import "math"

// rmsNorm writes x / sqrt(mean(x²) + eps) * w. It rounds like ggml:
// squares in float32 summed in float64, then mean, sqrt and reciprocal
// each in float32. Activations are quantized to int8 right after this, so
// one ulp of difference here can flip a quantized value and move the
// logits measurably away from llama.cpp's.
//
// The float64 sum runs in four interleaved chains: one chain waits on its
// adds' latency at every element (2.1 µs at 2048 wide, 1.2-1.5 µs with
// four; TinyLlama's 45 norms per token took 1.5% of a decode step). Its
// order differs from ggml's single chain only in float64's last bits,
// far below the float32 rounding of the mean (TestRMSNormLikeGGML).
func rmsNorm(out, x, w []float32, eps float32) {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		s0 += float64(v[0] * v[0])
		s1 += float64(v[1] * v[1])
		s2 += float64(v[2] * v[2])
		s3 += float64(v[3] * v[3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i] * x[i])
	}
	sum := (s0 + s1) + (s2 + s3)
	mean := float32(sum / float64(len(x)))
	scale := 1 / float32(math.Sqrt(float64(mean+eps)))
	w = w[:len(x)]
	out = out[:len(x)]
	for i, v := range x {
		out[i] = v * scale * w[i]
	}
}

// normTask is the per-token glue between a layer's matmuls over the
// tokens [t0, t1) of a batch: the residual add x += add (when add is
// set), then rmsNorm of x into out (when w is set). Tokens are
// independent, so a prompt spreads them over the workers (a struct, not
// a closure, so a decode step allocates nothing).
type normTask struct {
	out, x, w, add []float32
	d              int
	eps            float32
}

func (n *normTask) Run(_, t0, t1 int) {
	for t := t0; t < t1; t++ {
		x := n.x[t*n.d : (t+1)*n.d]
		if n.add != nil {
			for i, a := range n.add[t*n.d : (t+1)*n.d] {
				x[i] += a
			}
		}
		if n.w != nil {
			rmsNorm(n.out[t*n.d:(t+1)*n.d], x, n.w, n.eps)
		}
	}
}

// ropeTask rotates the queries and keys of tokens [t0, t1) of a batch
// (positions pos+t).
type ropeTask struct {
	r           *ropeTable
	q, k        []float32
	qd, kvd     int
	nh, nkv, hd int
	pos         int
	neox        bool
}

func (r *ropeTask) Run(_, t0, t1 int) {
	for t := t0; t < t1; t++ {
		r.r.apply(r.q[t*r.qd:(t+1)*r.qd], r.nh, r.hd, r.pos+t, r.neox)
		r.r.apply(r.k[t*r.kvd:(t+1)*r.kvd], r.nkv, r.hd, r.pos+t, r.neox)
	}
}

// ropeTable holds cos/sin for every position and pair, computed the way
// ggml does (theta multiplied by theta_scale step by step in float32), so
// that our rotations round like llama.cpp's.
type ropeTable struct {
	dims     int
	cos, sin []float32 // [pos][dims/2]
}

func newRopeTable(dims, nPos int, base float32) *ropeTable {
	rt := &ropeTable{dims: dims, cos: make([]float32, nPos*dims/2), sin: make([]float32, nPos*dims/2)}
	thetaScale := float32(math.Pow(float64(base), -2.0/float64(dims)))
	for p := 0; p < nPos; p++ {
		theta := float32(p)
		for i := 0; i < dims/2; i++ {
			rt.cos[p*dims/2+i] = float32(math.Cos(float64(theta)))
			rt.sin[p*dims/2+i] = float32(math.Sin(float64(theta)))
			theta *= thetaScale
		}
	}
	return rt
}

// apply rotates each head of x (nHeads × headDim) at position pos. NEOX
// pairs element i with i+dims/2; the original layout pairs 2i with 2i+1.
func (rt *ropeTable) apply(x []float32, nHeads, headDim, pos int, neox bool) {
	half := rt.dims / 2
	cs := rt.cos[pos*half : (pos+1)*half]
	sn := rt.sin[pos*half : (pos+1)*half]
	for h := 0; h < nHeads; h++ {
		v := x[h*headDim : h*headDim+headDim]
		for i := 0; i < half; i++ {
			a, b := 2*i, 2*i+1
			if neox {
				a, b = i, i+half
			}
			x0, x1 := v[a], v[b]
			v[a] = x0*cs[i] - x1*sn[i]
			v[b] = x0*sn[i] + x1*cs[i]
		}
	}
}

// softmaxInPlace normalises x to probabilities, subtracting the max for
// stability and summing in float64.
func softmaxInPlace(x []float32) {
	mx := float32(math.Inf(-1))
	for _, v := range x {
		if v > mx {
			mx = v
		}
	}
	var sum float64
	for i, v := range x {
		e := float32(math.Exp(float64(v - mx)))
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

package kernels

import (
	"fmt"
	"math/rand/v2"
)

// VerifyTwins checks a kernel table against the Go twins on random
// blocks of odd sizes (1, 3, 17 and 43 super-blocks): the Q8_K
// quantizer, the Q4_K, Q5_K and Q6_K dots, the 4-column GEMMs (Q4_K,
// Q5_K), the 4-row decode GEMVs, the repacked GEMMs (2, 3 and 4
// columns), the Q8_0 and F32 dots (an odd length, a misaligned operand),
// and decode attention's group kernels. Every result must be bit-identical. The kernels' tests and
// the harness's phase check both run it; the tests then go further per
// kernel (kernels_test.go, dispatch_test.go).
func VerifyTwins(o *Ops, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, seed))
	for _, nb := range []int{1, 3, 17, 43} {
		w4 := make([]BlockQ4K, nb)
		w5 := make([]BlockQ5K, nb)
		w6 := make([]BlockQ6K, nb)
		x := make([]float32, nb*QK_K)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		QuantizeQ4K(x, w4)
		QuantizeQ5K(x, w5)
		QuantizeQ6K(x, w6)
		a := make([]BlockQ8K, 4*nb)
		for c := 0; c < 4; c++ {
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			QuantizeRowQ8K(x, a[c*nb:(c+1)*nb])
			q := make([]BlockQ8K, nb)
			o.QuantizeRowQ8K(x, q)
			for i := range q {
				if q[i] != a[c*nb+i] {
					return fmt.Errorf("%s Q8_K quantizer differs from the Go twin at %d blocks", o.ISA, nb)
				}
			}
		}
		if o.DotQ4KQ8K(w4, a[:nb]) != DotQ4KQ8K(w4, a[:nb]) || o.DotQ6KQ8K(w6, a[:nb]) != DotQ6KQ8K(w6, a[:nb]) {
			return fmt.Errorf("%s differs from the Go twin at %d blocks", o.ISA, nb)
		}
		var g1, g2 [4]float32
		o.GemmQ4KQ8K1x4(w4, a, nb, &g1)
		GemmQ4KQ8K1x4(w4, a, nb, &g2)
		if g1 != g2 {
			return fmt.Errorf("%s GEMM differs from the Go twin at %d blocks", o.ISA, nb)
		}
		if o.DotQ5KQ8K(w5, a[:nb]) != DotQ5KQ8K(w5, a[:nb]) {
			return fmt.Errorf("%s Q5_K dot differs from the Go twin at %d blocks", o.ISA, nb)
		}
		if o.GemmQ5KQ8K1x4 != nil {
			o.GemmQ5KQ8K1x4(w5, a, nb, &g1)
			GemmQ5KQ8K1x4(w5, a, nb, &g2)
			if g1 != g2 {
				return fmt.Errorf("%s Q5_K GEMM differs from the Go twin at %d blocks", o.ISA, nb)
			}
		}
		// The decode kernels: four weight rows against one column.
		r4 := make([]BlockQ4K, 4*nb)
		r6 := make([]BlockQ6K, 4*nb)
		for row := 0; row < 4; row++ {
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			QuantizeQ4K(x, r4[row*nb:(row+1)*nb])
			QuantizeQ6K(x, r6[row*nb:(row+1)*nb])
		}
		o.GemvQ4KQ8K4x1(r4, a[:nb], &g1)
		GemvQ4KQ8K4x1(r4, a[:nb], &g2)
		if g1 != g2 {
			return fmt.Errorf("%s 4-row Q4_K GEMV differs from the Go twin at %d blocks", o.ISA, nb)
		}
		// Q8_0 and F32 rows (Q8_0 models, attention's q·k).
		q8w, q8a := make([]BlockQ8_0, 8*nb), make([]BlockQ8_0, 8*nb)
		QuantizeRowQ8_0(x, q8w)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		QuantizeRowQ8_0(x, q8a)
		if o.DotQ8_0Q8_0(q8w, q8a) != DotQ8_0Q8_0(q8w, q8a) {
			return fmt.Errorf("%s Q8_0 dot differs from the Go twin at %d blocks", o.ISA, 8*nb)
		}
		// An odd length (not a multiple of 8) and a misaligned operand.
		f := x[:len(x)-nb]
		if o.DotF32(f[1:], f[:len(f)-1]) != DotF32(f[1:], f[:len(f)-1]) {
			return fmt.Errorf("%s F32 dot differs from the Go twin at length %d", o.ISA, len(f)-1)
		}
		o.GemvQ6KQ8K4x1(r6, a[:nb], &g1)
		GemvQ6KQ8K4x1(r6, a[:nb], &g2)
		if g1 != g2 {
			return fmt.Errorf("%s 4-row Q6_K GEMV differs from the Go twin at %d blocks", o.ISA, nb)
		}
		// The repacked GEMMs of small batches: 4, 3 and 2 columns.
		rp := make([]BlockQ4KR4, nb)
		RepackQ4KR4(r4, rp)
		for _, k := range []struct {
			name      string
			got, twin func([]BlockQ4KR4, []BlockQ8K, int, *[16]float32)
		}{{"4-column", o.GemmQ4KR4Q8K4x4, GemmQ4KR4Q8K4x4}, {"3-column", o.GemmQ4KR4Q8K4x3, GemmQ4KR4Q8K4x3},
			{"2-column", o.GemmQ4KR4Q8K4x2, GemmQ4KR4Q8K4x2}} {
			if k.got == nil {
				continue
			}
			var h1, h2 [16]float32
			k.got(rp, a, nb, &h1)
			k.twin(rp, a, nb, &h2)
			if h1 != h2 {
				return fmt.Errorf("%s %s repacked Q4_K GEMM differs from the Go twin at %d blocks", o.ISA, k.name, nb)
			}
		}
		if err := verifyAttention(o, r, nb); err != nil {
			return err
		}
	}
	return nil
}

// verifyAttention checks the flash-attention group kernels on a GQA
// group of eight heads over 8·nb − 1 keys (an odd count), head size 64.
func verifyAttention(o *Ops, r *rand.Rand, nb int) error {
	const heads, hd = 8, 64
	keys := 8*nb - 1
	x := make([]float32, (keys+heads)*hd)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	kq := make([]BlockQ8_0, len(x)/QK8_0)
	QuantizeRowQ8_0(x, kq)
	k, q := kq[:keys*hd/QK8_0], kq[keys*hd/QK8_0:]
	s1, s2 := make([]float32, heads*keys), make([]float32, heads*keys)
	o.DotQ8_0RowsHeads(s1, keys, k, hd/QK8_0, q, heads)
	DotQ8_0RowsHeads(s2, keys, k, hd/QK8_0, q, heads)
	m := make([]float32, heads)
	mt1, mt2, e1, e2 := make([]float32, heads), make([]float32, heads), make([]float32, heads), make([]float32, heads)
	o.ScaleMaxF32Heads(s1, heads, 0.125, m, mt1)
	ScaleMaxF32Heads(s2, heads, 0.125, m, mt2)
	o.ExpSubF32Heads(s1, heads, mt1, e1)
	ExpSubF32Heads(s2, heads, mt2, e2)
	out1, out2 := make([]float32, heads*hd), make([]float32, heads*hd)
	o.AxpyF32RowsHeads(out1, heads, s1, x[:keys*hd])
	AxpyF32RowsHeads(out2, heads, s2, x[:keys*hd])
	for i := range out1 {
		if out1[i] != out2[i] {
			return fmt.Errorf("%s attention group kernels differ from the Go twins (%d keys)", o.ISA, keys)
		}
	}
	for h := range e1 {
		if e1[h] != e2[h] || mt1[h] != mt2[h] {
			return fmt.Errorf("%s online-softmax group kernels differ from the Go twins (%d keys)", o.ISA, keys)
		}
	}
	return nil
}

package mock

import (
	"math/rand/v2"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
)

// Quantized mocks are built from pools of real quantized blocks: a pool
// is poolBlocks blocks obtained by quantizing N(mean, std) weights with
// the real quantizer, and every block of the model is a copy of one
// drawn at random. Each block therefore has exactly the statistics of a
// quantized Gaussian block (scales, mins, nibble histogram), while
// producing a 7B model costs a memory copy per block instead of a
// quantizer search per weight. Small models use pools no larger than
// their largest tensor.
const maxPoolBlocks = 1 << 14

type poolKey struct {
	typ       gguf.GGMLType
	mean, std float64
}

func makePool(k poolKey, blocks int, seed uint64) ([]byte, error) {
	n := blocks * int(k.typ.BlockSize())
	rng := rand.New(rand.NewPCG(seed^0x5eed, uint64(k.typ)<<32^uint64(k.std*1e9)))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(k.mean + k.std*rng.NormFloat64())
	}
	out := make([]byte, blocks*int(k.typ.TypeSize()))
	return out, engine.QuantizeRows(k.typ, x, out)
}

// samplePoolRow appends one row of cols weights made of random pool blocks.
func samplePoolRow(dst, pool []byte, t gguf.GGMLType, cols int, rng *rand.Rand) []byte {
	bs := int(t.TypeSize())
	n := len(pool) / bs
	for b := 0; b < cols/int(t.BlockSize()); b++ {
		i := rng.IntN(n)
		dst = append(dst, pool[i*bs:(i+1)*bs]...)
	}
	return dst
}

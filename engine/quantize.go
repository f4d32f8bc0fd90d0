package engine

import (
	"fmt"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/kernels"
)

// QuantizeRows encodes float32 rows (a multiple of the type's block size)
// into dst, which must hold exactly the encoded bytes.
func QuantizeRows(t gguf.GGMLType, x []float32, dst []byte) error {
	want, err := t.RowBytes(uint64(len(x)))
	if err != nil {
		return err
	}
	if uint64(len(dst)) != want {
		return fmt.Errorf("quantize %s: destination holds %d bytes, %d needed", t, len(dst), want)
	}
	switch t {
	case gguf.TypeQ4_K:
		kernels.QuantizeQ4K(x, kernels.AsQ4K(dst))
	case gguf.TypeQ5_K:
		kernels.QuantizeQ5K(x, kernels.AsQ5K(dst))
	case gguf.TypeQ6_K:
		kernels.QuantizeQ6K(x, kernels.AsQ6K(dst))
	case gguf.TypeQ8_0:
		kernels.QuantizeQ8_0(x, kernels.AsQ8_0(dst))
	case gguf.TypeF16:
		kernels.ConvertRowF16(x, kernels.AsU16(dst))
	case gguf.TypeBF16:
		kernels.ConvertRowBF16(x, kernels.AsU16(dst))
	case gguf.TypeF32:
		copy(kernels.AsF32(dst), x)
	default:
		return fmt.Errorf("quantizing to %s is not supported", t)
	}
	return nil
}

// DequantizeRows decodes data of type t into out (len = element count).
func DequantizeRows(t gguf.GGMLType, data []byte, out []float32) {
	m := Matrix{Type: t, Rows: 1, Cols: len(out), RowBytes: len(data), Data: data}
	m.DequantRow(0, out)
}

package quant

import (
	"bytes"
	"math"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/internal/numerics"
)

// CompareRow is one tensor of a quality comparison: the RMSE of two
// quantized versions (ours, a reference such as llama-quantize's) against
// the float source, and how many blocks are byte-identical.
type CompareRow struct {
	Name               string
	Type, RefType      gguf.GGMLType
	RMSE, RefRMSE      float64
	SameBlocks, Blocks uint64
}

// Compare measures every quantized tensor of ours against src and, where
// ref has the same tensor, ref against src.
func Compare(src, ours, ref *gguf.File) []CompareRow {
	var rows []CompareRow
	for i := range ours.Tensors {
		o := &ours.Tensors[i]
		s, ok := src.Tensor(o.Name)
		if !ok || o.Type == s.Type {
			continue
		}
		x := make([]float32, s.Elements())
		engine.DequantizeRows(s.Type, src.TensorData(s), x)
		y := make([]float32, len(x))
		engine.DequantizeRows(o.Type, ours.TensorData(o), y)
		row := CompareRow{Name: o.Name, Type: o.Type, RMSE: numerics.RMSE(x, y), RefRMSE: math.NaN()}
		if r, ok := ref.Tensor(o.Name); ok && r.Elements() == s.Elements() {
			row.RefType = r.Type
			engine.DequantizeRows(r.Type, ref.TensorData(r), y)
			row.RefRMSE = numerics.RMSE(x, y)
			if r.Type == o.Type {
				a, b := ours.TensorData(o), ref.TensorData(r)
				bs := int(o.Type.TypeSize())
				row.Blocks = uint64(len(a) / bs)
				for k := 0; k+bs <= len(a); k += bs {
					if bytes.Equal(a[k:k+bs], b[k:k+bs]) {
						row.SameBlocks++
					}
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

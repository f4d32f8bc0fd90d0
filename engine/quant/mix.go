// Package quant converts F32/F16/BF16 GGUF models to quantized ones:
// which type each tensor gets (the mix), and the streaming conversion.
package quant

import (
	"fmt"
	"strings"

	"asdsl-bench/engine/gguf"
)

// FileType is a whole-model quantization recipe, numbered as llama.cpp's
// llama_ftype so general.file_type means the same to every reader.
type FileType uint32

// The recipes this quantizer writes.
const (
	FileQ8_0  FileType = 7
	FileQ4_KS FileType = 14
	FileQ4_KM FileType = 15
	FileQ6_K  FileType = 18
)

var fileTypeNames = map[FileType]string{FileQ8_0: "q8_0", FileQ4_KS: "q4_k_s", FileQ4_KM: "q4_k_m", FileQ6_K: "q6_k"}

func (f FileType) String() string { return fileTypeNames[f] }

// ParseFileType reads a recipe name such as "q4_k_m".
func ParseFileType(s string) (FileType, error) {
	for ft, name := range fileTypeNames {
		if strings.EqualFold(s, name) {
			return ft, nil
		}
	}
	return 0, fmt.Errorf("unknown quantization type %q (want q4_k_m, q4_k_s, q6_k or q8_0)", s)
}

// base is the type most weight matrices get under the recipe.
func (f FileType) base() gguf.GGMLType {
	switch f {
	case FileQ8_0:
		return gguf.TypeQ8_0
	case FileQ6_K:
		return gguf.TypeQ6_K
	}
	return gguf.TypeQ4_K
}

// mix picks each tensor's type the way llama-quantize does for these
// recipes (no importance matrix): attention-value and FFN-down matrices
// of selected layers get more bits, the output matrix gets Q6_K, and a
// tensor whose rows are not whole blocks falls back to a smaller block.
// Tensors must be offered in file order: the layer counters advance as
// llama.cpp's do.
type mix struct {
	ft             FileType
	pure           bool
	hasOutput      bool
	is70B          bool
	nAttnV, iAttnV int
	nDown, iDown   int
}

func newMix(f *gguf.File, ft FileType) *mix {
	m := &mix{ft: ft}
	for _, t := range f.Tensors {
		switch {
		case t.Name == "output.weight":
			m.hasOutput = true
		case isAttnV(t.Name):
			m.nAttnV++
		case strings.Contains(t.Name, "ffn_down"):
			m.nDown++
		}
	}
	// Llama-2-70B: 8 query heads share each attn_v, which makes it small
	// enough to afford Q5_K instead of Q4_K.
	if arch, err := f.Meta.String("general.architecture"); err == nil {
		nl, _ := f.Meta.Uint(arch + ".block_count")
		nh, _ := f.Meta.Uint(arch + ".attention.head_count")
		nkv, _ := f.Meta.UintOr(arch+".attention.head_count_kv", nh)
		m.is70B = arch == "llama" && nl == 80 && nh != nkv
	}
	return m
}

func isAttnV(name string) bool {
	return strings.Contains(name, "attn_v.weight") || strings.Contains(name, "attn_qkv.weight")
}

// useMoreBits marks the first and last eighth of the layers and every
// third layer between them.
func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// quantizable: only matrices are quantized; norms and other vectors keep
// their type.
func quantizable(t *gguf.TensorInfo) bool {
	return strings.HasSuffix(t.Name, "weight") && len(t.Dims) >= 2
}

// choose returns the output type of t and, when the preferred type did
// not fit the row length, a note saying what was used instead.
func (m *mix) choose(t *gguf.TensorInfo) (gguf.GGMLType, string) {
	if !quantizable(t) {
		return t.Type, ""
	}
	typ := m.ft.base()
	name := t.Name
	if m.pure {
		return fallback(t, typ)
	}
	switch {
	case name == "output.weight" || (!m.hasOutput && name == "token_embd.weight"):
		if t.Dims[0]%typ.BlockSize() != 0 {
			typ = gguf.TypeQ8_0
		} else if typ != gguf.TypeQ8_0 {
			typ = gguf.TypeQ6_K
		}
	case name == "token_embd.weight":
	case isAttnV(name):
		switch {
		case m.ft == FileQ4_KM && useMoreBits(m.iAttnV, m.nAttnV):
			typ = gguf.TypeQ6_K
		case m.ft == FileQ4_KS && m.iAttnV < 4:
			typ = gguf.TypeQ5_K
		}
		if m.is70B && typ == gguf.TypeQ4_K {
			typ = gguf.TypeQ5_K
		}
		m.iAttnV++
	case strings.Contains(name, "ffn_down"):
		switch {
		case m.ft == FileQ4_KM && useMoreBits(m.iDown, m.nDown):
			typ = gguf.TypeQ6_K
		case m.ft == FileQ4_KS && m.iDown < m.nDown/8:
			typ = gguf.TypeQ5_K
		}
		m.iDown++
	}
	return fallback(t, typ)
}

// fallback replaces a type whose block does not divide the row length.
// llama.cpp falls back from Q4_K to Q5_0 and from Q5_K to Q5_1, formats
// this engine does not implement; Q8_0 (block 32) takes their place.
func fallback(t *gguf.TensorInfo, typ gguf.GGMLType) (gguf.GGMLType, string) {
	cols := t.Dims[0]
	if cols%typ.BlockSize() == 0 {
		return typ, ""
	}
	want := typ
	typ = gguf.TypeQ8_0
	if cols%typ.BlockSize() != 0 {
		typ = gguf.TypeF16
	}
	return typ, fmt.Sprintf("%s: %d columns are not a multiple of %d (%s), using %s", t.Name, cols, want.BlockSize(), want, typ)
}

// Package gguf reads and writes GGUF files (versions 2 and 3): typed
// metadata, tensor descriptors and zero-copy views of memory-mapped
// tensor data. Every malformed input yields an error, never a panic or an
// allocation larger than the file itself.
package gguf

import "fmt"

// GGMLType is a tensor element type as numbered by ggml.
type GGMLType uint32

// The ggml type numbers this package knows by name. Only those with
// Supported() true can be loaded; the rest are named in error messages.
const (
	TypeF32  GGMLType = 0
	TypeF16  GGMLType = 1
	TypeQ4_0 GGMLType = 2
	TypeQ4_1 GGMLType = 3
	TypeQ5_0 GGMLType = 6
	TypeQ5_1 GGMLType = 7
	TypeQ8_0 GGMLType = 8
	TypeQ8_1 GGMLType = 9
	TypeQ2_K GGMLType = 10
	TypeQ3_K GGMLType = 11
	TypeQ4_K GGMLType = 12
	TypeQ5_K GGMLType = 13
	TypeQ6_K GGMLType = 14
	TypeQ8_K GGMLType = 15
	TypeBF16 GGMLType = 30

	// asdsl-bench's own layouts, written by `asdsl-bench repack`: Q4_K
	// and Q6_K rows interleaved four at a time (kernels.BlockQ4KR4,
	// BlockQ6KR4), the layout the decode kernels read, so that a model
	// is mapped and used as is instead of repacked at every load. The
	// numbers are far from ggml's, which no other program will read as
	// these layouts; sizes per row are Q4_K's and Q6_K's.
	TypeQ4_K_R4 GGMLType = 1022
	TypeQ6_K_R4 GGMLType = 1024
	// TypeQ4_K_R4v1 and TypeQ6_K_R4v1 are the layouts before their chunks
	// (one sub-block per 64 bytes, or 32 weights per load): files
	// repacked then are refused with a clear error, not read wrongly;
	// repacking the GGUF file again makes them anew.
	TypeQ4_K_R4v1 GGMLType = 1012
	TypeQ6_K_R4v1 GGMLType = 1014
)

type typeInfo struct {
	name      string
	blockSize uint64 // elements per block
	typeSize  uint64 // bytes per block
	supported bool
}

var typeTable = map[GGMLType]typeInfo{
	TypeF32:  {"F32", 1, 4, true},
	TypeF16:  {"F16", 1, 2, true},
	TypeQ4_0: {"Q4_0", 32, 18, false},
	TypeQ4_1: {"Q4_1", 32, 20, false},
	TypeQ5_0: {"Q5_0", 32, 22, false},
	TypeQ5_1: {"Q5_1", 32, 24, false},
	TypeQ8_0: {"Q8_0", 32, 34, true},
	TypeQ8_1: {"Q8_1", 32, 36, false},
	TypeQ2_K: {"Q2_K", 256, 84, false},
	TypeQ3_K: {"Q3_K", 256, 110, false},
	TypeQ4_K: {"Q4_K", 256, 144, true},
	TypeQ5_K: {"Q5_K", 256, 176, true},
	TypeQ6_K: {"Q6_K", 256, 210, true},
	TypeQ8_K: {"Q8_K", 256, 292, false},
	TypeBF16: {"BF16", 1, 2, true},

	TypeQ4_K_R4:   {"ASDSL_Q4_K_R4", 256, 144, true},
	TypeQ4_K_R4v1: {"ASDSL_Q4_K_R4 v1 (an older asdsl-bench's layout: repack the GGUF file again)", 256, 144, false},
	TypeQ6_K_R4:   {"ASDSL_Q6_K_R4", 256, 210, true},
	TypeQ6_K_R4v1: {"ASDSL_Q6_K_R4 v1 (an older asdsl-bench's layout: repack the GGUF file again)", 256, 210, false},
}

// Repacked returns the 4-row interleaved layout of t and whether it has
// one (Q4_K, Q6_K).
func (t GGMLType) Repacked() (GGMLType, bool) {
	switch t {
	case TypeQ4_K:
		return TypeQ4_K_R4, true
	case TypeQ6_K:
		return TypeQ6_K_R4, true
	}
	return 0, false
}

// Unpacked is the GGUF type a repacked layout holds (t itself otherwise).
func (t GGMLType) Unpacked() GGMLType {
	switch t {
	case TypeQ4_K_R4:
		return TypeQ4_K
	case TypeQ6_K_R4:
		return TypeQ6_K
	}
	return t
}

func (t GGMLType) String() string {
	if ti, ok := typeTable[t]; ok {
		return ti.name
	}
	return fmt.Sprintf("type%d", uint32(t))
}

// Supported reports whether the engine can load tensors of this type.
func (t GGMLType) Supported() bool { return typeTable[t].supported }

// BlockSize is the number of elements in one block of this type.
func (t GGMLType) BlockSize() uint64 { return typeTable[t].blockSize }

// TypeSize is the byte size of one block of this type.
func (t GGMLType) TypeSize() uint64 { return typeTable[t].typeSize }

// RowBytes returns the byte size of a row of n elements, or an error if n
// is not a whole number of blocks.
func (t GGMLType) RowBytes(n uint64) (uint64, error) {
	ti, ok := typeTable[t]
	if !ok || !ti.supported {
		return 0, fmt.Errorf("unsupported tensor type %s", t)
	}
	if n%ti.blockSize != 0 {
		return 0, fmt.Errorf("row of %d elements is not a multiple of the %s block size %d", n, t, ti.blockSize)
	}
	return n / ti.blockSize * ti.typeSize, nil
}

// ParseType maps a type name (case-insensitive, e.g. "q4_k", "F16") to a type.
func ParseType(name string) (GGMLType, bool) {
	for t, ti := range typeTable {
		if equalFold(ti.name, name) {
			return t, true
		}
	}
	return 0, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func supportedList() string { return "F32, F16, BF16, Q8_0, Q4_K, Q5_K, Q6_K" }

// ValueType is the type tag of a metadata value.
type ValueType uint32

// Metadata value types of the GGUF specification.
const (
	ValUint8   ValueType = 0
	ValInt8    ValueType = 1
	ValUint16  ValueType = 2
	ValInt16   ValueType = 3
	ValUint32  ValueType = 4
	ValInt32   ValueType = 5
	ValFloat32 ValueType = 6
	ValBool    ValueType = 7
	ValString  ValueType = 8
	ValArray   ValueType = 9
	ValUint64  ValueType = 10
	ValInt64   ValueType = 11
	ValFloat64 ValueType = 12
)

var valueNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (v ValueType) String() string {
	if int(v) < len(valueNames) {
		return valueNames[v]
	}
	return fmt.Sprintf("valuetype%d", uint32(v))
}

// scalarSize is the encoded size of a fixed-size value type, 0 for others.
func (v ValueType) scalarSize() int {
	switch v {
	case ValUint8, ValInt8, ValBool:
		return 1
	case ValUint16, ValInt16:
		return 2
	case ValUint32, ValInt32, ValFloat32:
		return 4
	case ValUint64, ValInt64, ValFloat64:
		return 8
	}
	return 0
}

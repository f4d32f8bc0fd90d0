package kernels

import "unsafe"

// QK_K is the super-block length of the K-quants: 256 weights.
const QK_K = 256

// QK8_0 is the block length of Q8_0: 32 weights.
const QK8_0 = 32

// BlockQ4K is ggml's block_q4_K: 256 weights as 8 sub-blocks of 32, each
// with a 6-bit scale and a 6-bit min packed into Scales, and two fp16
// super-scales. Weight = D*scale*q - Dmin*min with q in 0..15.
type BlockQ4K struct {
	D      uint16    // fp16 super-block scale for the sub-block scales
	Dmin   uint16    // fp16 super-block scale for the sub-block mins
	Scales [12]uint8 // 8 scales and 8 mins, 6 bits each
	Qs     [128]uint8
}

// BlockQ5K is ggml's block_q5_K: like Q4_K with a fifth bit per weight in
// Qh (bit 2j of qh[l] for the low nibble of chunk j, bit 2j+1 for the high).
type BlockQ5K struct {
	D      uint16
	Dmin   uint16
	Scales [12]uint8
	Qh     [32]uint8
	Qs     [128]uint8
}

// BlockQ6K is ggml's block_q6_K: 256 weights as 16 sub-blocks of 16 with
// int8 scales; each weight is 6 bits (4 low in Ql, 2 high in Qh), offset 32.
type BlockQ6K struct {
	Ql     [128]uint8
	Qh     [64]uint8
	Scales [16]int8
	D      uint16 // fp16
}

// BlockQ8_0 is ggml's block_q8_0: 32 int8 weights and an fp16 scale.
type BlockQ8_0 struct {
	D  uint16 // fp16
	Qs [32]int8
}

// BlockQ8K is ggml's block_q8_K, the activation format for K-quant dot
// products: a float32 scale, 256 int8 values, and the sums of each group
// of 16 (used to apply the Q4_K mins with 16 multiplies instead of 256).
// Invariant: Bsums[g] is the sum of Qs[16g:16g+16]; the SIMD kernels rely
// on it (QuantizeRowQ8K maintains it).
type BlockQ8K struct {
	D     float32
	Qs    [256]int8
	Bsums [16]int16
}

// Byte sizes of the packed blocks, as in ggml-common.h.
const (
	BlockQ4KSize  = 144
	BlockQ5KSize  = 176
	BlockQ6KSize  = 210
	BlockQ8_0Size = 34
	BlockQ8KSize  = 292
)

// Compile-time size checks: a struct that drifts from ggml's layout fails
// to build rather than silently misreading a file.
var (
	_ [BlockQ4KSize - unsafe.Sizeof(BlockQ4K{})]struct{}
	_ [unsafe.Sizeof(BlockQ4K{}) - BlockQ4KSize]struct{}
	_ [BlockQ5KSize - unsafe.Sizeof(BlockQ5K{})]struct{}
	_ [unsafe.Sizeof(BlockQ5K{}) - BlockQ5KSize]struct{}
	_ [BlockQ6KSize - unsafe.Sizeof(BlockQ6K{})]struct{}
	_ [unsafe.Sizeof(BlockQ6K{}) - BlockQ6KSize]struct{}
	_ [BlockQ8_0Size - unsafe.Sizeof(BlockQ8_0{})]struct{}
	_ [unsafe.Sizeof(BlockQ8_0{}) - BlockQ8_0Size]struct{}
	_ [BlockQ8KSize - unsafe.Sizeof(BlockQ8K{})]struct{}
	_ [unsafe.Sizeof(BlockQ8K{}) - BlockQ8KSize]struct{}
)

// AsQ4K views raw bytes (a multiple of BlockQ4KSize) as blocks, zero-copy.
func AsQ4K(b []byte) []BlockQ4K { return asBlocks[BlockQ4K](b, BlockQ4KSize) }

// AsQ5K views raw bytes as Q5_K blocks, zero-copy.
func AsQ5K(b []byte) []BlockQ5K { return asBlocks[BlockQ5K](b, BlockQ5KSize) }

// AsQ6K views raw bytes as Q6_K blocks, zero-copy.
func AsQ6K(b []byte) []BlockQ6K { return asBlocks[BlockQ6K](b, BlockQ6KSize) }

// AsQ8_0 views raw bytes as Q8_0 blocks, zero-copy.
func AsQ8_0(b []byte) []BlockQ8_0 { return asBlocks[BlockQ8_0](b, BlockQ8_0Size) }

// AsU16 views raw bytes as little-endian uint16 values (F16/BF16 rows).
func AsU16(b []byte) []uint16 { return asBlocks[uint16](b, 2) }

// AsF32 views raw bytes as float32 values.
func AsF32(b []byte) []float32 { return asBlocks[float32](b, 4) }

// BytesOf views a block slice as its raw bytes (for writing files).
func BytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

func asBlocks[T any](b []byte, size int) []T {
	if len(b)%size != 0 {
		panic("kernels: byte length is not a whole number of blocks") // caller bug: sizes are validated at load
	}
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size)
}

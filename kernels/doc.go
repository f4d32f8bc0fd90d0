// Package kernels holds the block formats of quantized weights and
// activations, and the arithmetic on them: decode (dequantize) functions,
// activation quantizers and dot products.
//
// Every function here is the pure-Go reference ("generic twin"). SIMD
// kernels added later are tested against these on odd shapes, so these
// favour clarity and exact agreement with ggml's integer arithmetic over
// speed.
//
// Layout contract: blocks are read straight out of a memory-mapped GGUF
// file, so the structs below mirror ggml's C structs byte for byte on a
// little-endian machine. The size of every packed struct is checked at
// compile time.
package kernels

//go:generate go run ./internal/asmgen -out dot_amd64.s -stubs dot_stub_amd64.go -pkg kernels

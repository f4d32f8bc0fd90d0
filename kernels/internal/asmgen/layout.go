package main

// The byte layouts of the blocks the kernels read, as in package
// kernels (blocks.go, q4kr4.go, q6kr4.go, panel.go): one place for every
// offset the generators use.

// Block layouts (bytes), as in package kernels.
const (
	q4kSize    = 144
	q4kScales  = 4
	q4kQs      = 16
	q8kSize    = 292
	q8kQs      = 4
	q8kBsums   = 260
	kmask1     = 0x3f3f3f3f
	kmask2     = 0x0f0f0f0f
	kmask3     = 0x03030303
	nibbleMask = 0x0f0f0f0f
)

// Q5_K layout (bytes): Q4_K's header (d, dmin, scales at q4kScales),
// then the fifth bits, then the low nibbles.
const (
	q5kSize = 176
	q5kQh   = 16
	q5kQs   = 48
)

// Q6_K layout (bytes).
const (
	q6kSize   = 210
	q6kQl     = 0
	q6kQh     = 128
	q6kScales = 192
	q6kD      = 208
)

// UnpackedQ4K layout (bytes), as in package kernels.
const (
	unpSize = 576
	unpW    = 0
	unpS    = 256
	unpM    = 512
	unpD    = 544
)

// BlockQ4KR4 layout (bytes), as in package kernels.
const (
	r4Size = 576
	r4DM   = 0
	r4SM   = 16
	r4MHi  = 48
	r4Qs   = 64
)

// BlockQ6KR4 layout (bytes), as in package kernels.
const (
	r6Size   = 840
	r6D      = 0
	r6Scales = 8
	r6Qs     = 72 // four chunks of r6Chunk bytes
)

// Q8_0 layout (bytes).
const (
	q80Size = 34
	q80Qs   = 2
)

// Panel layout (bytes per super-block of 32 rows), as in package
// kernels: 64 quads of 32 rows × 4 weights; per sub-block 32 int32
// scales; 8 × 32 int16 pairs of mins; 2 × 32 floats d, dmin.
const (
	panelQuad   = 128
	panelQs     = 64 * panelQuad
	panelRowVec = 128 // 32 dwords: one value per row
)

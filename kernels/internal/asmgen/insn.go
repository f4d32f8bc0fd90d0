package main

import (
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Instructions and idioms avo lacks or spells awkwardly: the VNNI and
// GFNI forms (emitted as EVEX; vexvnni.go re-encodes the AVX-VNNI ones
// as VEX after generation) and the zeroing idiom.

// vpdpwssd emits VPDPWSSD (AVX512_VNNI): acc[i] += a[2i]*b[2i] +
// a[2i+1]*b[2i+1] over int16 pairs, i.e. vpmaddwd and vpaddd in one.
// avo v0.5.0 does not know the instruction; the Go assembler does.
func vpdpwssd(b, a, acc Op) {
	Instruction(&ir.Instruction{
		Opcode:   "VPDPWSSD",
		Operands: []Op{b, a, acc},
		Inputs:   []Op{b, a, acc},
		Outputs:  []Op{acc},
		ISA:      []string{"AVX512_VNNI"},
	})
}

// gf2p8ShiftRight4 is the GF(2) affine matrix with which vgf2p8affineqb
// shifts every byte right by four: output bit i (row 7-i of the matrix)
// is input bit i+4 for i < 4, zero above. One instruction for the high
// nibbles instead of a shift and a mask.
const gf2p8ShiftRight4 = 0x1020408000000000

// vgf2p8affineqb: dst = the affine transform of each byte of src by the
// 8×8 bit matrix in each qword of mat, XOR imm (GFNI; avo has no
// constructor for it).
func vgf2p8affineqb(imm uint8, mat, src, dst Op) {
	Instruction(&ir.Instruction{Opcode: "VGF2P8AFFINEQB", Operands: []Op{U8(imm), mat, src, dst},
		Inputs: []Op{mat, src}, Outputs: []Op{dst}, ISA: []string{"GFNI"}})
}

// zeroIdiom zeroes t with VPXORD t, t, t, declared to avo as writing t
// without reading it (which is what the CPU does: the zero idiom is
// resolved at rename, no port, no dependency). avo's own VPXORD would
// make t live from the function's entry. A register move from a zero
// register instead costs an ALU slot when not eliminated.
func zeroIdiom(t Register) {
	op, isa := "VPXORD", "AVX512F"
	if _, ok := t.(VecVirtual); ok && t.Size() == 32 {
		op, isa = "VPXOR", "AVX2"
	}
	Instruction(&ir.Instruction{Opcode: op, Operands: []Op{t, t, t}, Outputs: []Op{t}, ISA: []string{isa}})
}

// vpdpbusd: acc += Σ of four u8(a)·s8(b) products per dword (AVX512_VNNI;
// avo has no constructor for it).
func vpdpbusd(b, a, acc Op) {
	Instruction(&ir.Instruction{Opcode: "VPDPBUSD", Operands: []Op{b, a, acc},
		Inputs: []Op{b, a, acc}, Outputs: []Op{acc}, ISA: []string{"AVX512_VNNI"}})
}

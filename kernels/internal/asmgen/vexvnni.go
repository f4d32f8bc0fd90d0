package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// vexVNNI rewrites, inside every function of the generated file whose
// name says AVXVNNI (the naming rule, so a new kernel cannot be left
// out: the 2- and 3-column GEMMs once were, and kept EVEX bytes an Alder
// Lake would fault on), every "VPDPWSSD Ya, Yb, Yc" and "VPDPBUSD Ya,
// Yb, Yc" as the bytes of its VEX (AVX-VNNI) encoding. Go's assembler only knows the EVEX (AVX-512 VNNI) form, which
// Alder Lake cannot run; the register allocator has already chosen the
// registers, so the bytes are computed from the printed operands. It
// refuses registers above Y15, which VEX cannot name.
func vexVNNI(path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	ins := regexp.MustCompile(`^\t(VPDPWSSD|VPDPBUSD)\s+Y(\d+), Y(\d+), Y(\d+)$`)
	opcode := map[string]int{"VPDPBUSD": 0x50, "VPDPWSSD": 0x52}
	lines := strings.Split(string(src), "\n")
	in := false
	for i, line := range lines {
		if name, ok := strings.CutPrefix(line, "TEXT ·"); ok {
			name, _, _ = strings.Cut(name, "(")
			in = strings.Contains(name, "AVXVNNI")
			if in && i > 0 { // avo's comment above TEXT lists the ISAs
				lines[i-1] = strings.Replace(lines[i-1], "AVX512_VNNI", "AVX_VNNI", 1)
			}
			continue
		}
		if !in {
			continue
		}
		m := ins.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		// Go order: VPDPWSSD src3, src2, dst  (dst += src2·src3).
		var r [3]int
		for k := range r {
			r[k], _ = strconv.Atoi(m[k+2])
			if r[k] > 15 {
				panic(fmt.Sprintf("vexVNNI: %q uses a register VEX cannot encode", line))
			}
		}
		rm, vvvv, reg := r[0], r[1], r[2]
		b1 := 0x02 | (^reg>>3&1)<<7 | 1<<6 | (^rm>>3&1)<<5 // R̄ X̄ B̄, map 0F38
		b2 := (^vvvv&0xf)<<3 | 1<<2 | 0x1                  // W0, v̄v̄v̄v̄, L=256, pp=66
		modrm := 0xc0 | (reg&7)<<3 | rm&7
		lines[i] = fmt.Sprintf("\tBYTE $0xc4; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x%02x // %s Y%d, Y%d, Y%d (VEX)",
			b1, b2, opcode[m[1]], modrm, m[1], rm, vvvv, reg)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		panic(err)
	}
}

//go:build linux

package kernels

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/unix"
)

// guarded returns n bytes that end exactly where an inaccessible page
// begins: a kernel that reads past them faults.
func guarded(t *testing.T, n int) []byte {
	t.Helper()
	page := unix.Getpagesize()
	size := (n + page - 1) / page * page
	mem, err := unix.Mmap(-1, 0, size+page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	if err := unix.Mprotect(mem[size:], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	return mem[size-n : size : size]
}

// The repacked GEMVs load a block ahead (blockAhead); on a group's last
// block they reload that block, never the bytes after it: every ISA
// reads nothing past a matrix that ends at an inaccessible page. (Letting
// the last block fetch the next group's first, where it follows, was
// tried: TinyLlama decode within noise, 47.7-51.3 against 46.0-53.4 t/s
// at 1 thread, so the kernels keep to their group.)
func TestRepackedGEMVsReadNothingPastTheMatrix(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	forEachISA(t, func(t *testing.T, o *Ops) {
		for _, nb := range []int{1, 2, 3, 8} {
			a := trialQ8K(r, nb, 0, 127, 7)
			// Two groups each, the second ending at the guard page.
			w := randQ4K(r, 8*nb)
			rp := AsQ4KR4(guarded(t, 2*nb*BlockQ4KR4Size))
			RepackQ4KR4(w[:4*nb], rp[:nb])
			RepackQ4KR4(w[4*nb:], rp[nb:])
			checkGroups(t, "Q4_K", rp, nb, a, o.GemvQ4KR4Q8K4x1, GemvQ4KR4Q8K4x1)
			if o.GemvQ6KR4Q8K4x1 == nil {
				continue
			}
			w6 := randQ6K(r, 8*nb)
			rp6 := AsQ6KR4(guarded(t, 2*nb*BlockQ6KR4Size))
			RepackQ6KR4(w6[:4*nb], rp6[:nb])
			RepackQ6KR4(w6[4*nb:], rp6[nb:])
			a6 := make([]BlockQ8K, nb)
			Q8KToQ6R4Order(a6, a)
			checkGroups(t, "Q6_K", rp6, nb, a6, o.GemvQ6KR4Q8K4x1, GemvQ6KR4Q8K4x1)
		}
	})
}

// checkGroups runs gemv on both groups of rp (each a window on the whole
// slice, as the engine passes them) against the twin.
func checkGroups[B any](t *testing.T, name string, rp []B, nb int, a []BlockQ8K, gemv, twin func([]B, []BlockQ8K, *[4]float32)) {
	t.Helper()
	for g := 0; g < 2; g++ {
		var got, want [4]float32
		gemv(rp[g*nb:(g+1)*nb], a, &got)
		twin(rp[g*nb:(g+1)*nb:(g+1)*nb], a, &want)
		if got != want {
			t.Fatalf("%s nb=%d group %d: %v, twin %v", name, nb, g, got, want)
		}
	}
}

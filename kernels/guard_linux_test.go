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
			// Q4_K: two groups, the second ending at the guard page.
			w := randQ4K(r, 8*nb)
			buf := guarded(t, 2*nb*BlockQ4KR4Size)
			rp := AsQ4KR4(buf)
			RepackQ4KR4(w[:4*nb], rp[:nb])
			RepackQ4KR4(w[4*nb:], rp[nb:])
			for g := 0; g < 2; g++ {
				var got, twin [4]float32
				o.GemvQ4KR4Q8K4x1(rp[g*nb:(g+1)*nb], a, &got)
				GemvQ4KR4Q8K4x1(rp[g*nb:(g+1)*nb:(g+1)*nb], a, &twin)
				if got != twin {
					t.Fatalf("Q4_K nb=%d group %d: %v, twin %v", nb, g, got, twin)
				}
			}
			// Q6_K likewise.
			w6 := randQ6K(r, 8*nb)
			buf6 := guarded(t, 2*nb*BlockQ6KR4Size)
			rp6 := AsQ6KR4(buf6)
			RepackQ6KR4(w6[:4*nb], rp6[:nb])
			RepackQ6KR4(w6[4*nb:], rp6[nb:])
			if o.GemvQ6KR4Q8K4x1 == nil {
				continue
			}
			for g := 0; g < 2; g++ {
				var got, twin [4]float32
				o.GemvQ6KR4Q8K4x1(rp6[g*nb:(g+1)*nb], a, &got)
				GemvQ6KR4Q8K4x1(rp6[g*nb:(g+1)*nb:(g+1)*nb], a, &twin)
				if got != twin {
					t.Fatalf("Q6_K nb=%d group %d: %v, twin %v", nb, g, got, twin)
				}
			}
		}
	})
}

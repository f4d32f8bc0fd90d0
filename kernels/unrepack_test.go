package kernels

import (
	"math/rand/v2"
	"testing"
)

// Repacking then unrepacking gives back the original bytes, for any
// bytes at all (every bit of both formats carries information).
func TestUnrepackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, nb := range []int{1, 3, 17} {
		q4 := make([]BlockQ4K, 4*nb)
		raw := BytesOf(q4)
		for i := range raw {
			raw[i] = byte(r.Uint32())
		}
		p4 := make([]BlockQ4KR4, nb)
		RepackQ4KR4(q4, p4)
		back4 := make([]BlockQ4K, 4*nb)
		UnrepackQ4KR4(p4, back4)
		for i := range q4 {
			if q4[i] != back4[i] {
				t.Fatalf("Q4_K nb=%d: block %d differs after the round trip", nb, i)
			}
		}
		q6 := make([]BlockQ6K, 4*nb)
		raw = BytesOf(q6)
		for i := range raw {
			raw[i] = byte(r.Uint32())
		}
		p6 := make([]BlockQ6KR4, nb)
		RepackQ6KR4(q6, p6)
		back6 := make([]BlockQ6K, 4*nb)
		UnrepackQ6KR4(p6, back6)
		for i := range q6 {
			if q6[i] != back6[i] {
				t.Fatalf("Q6_K nb=%d: block %d differs after the round trip", nb, i)
			}
		}
	}
}

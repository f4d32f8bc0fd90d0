package engine

import (
	"math/rand/v2"
	"testing"

	"asdsl-bench/engine/pool"
	"asdsl-bench/kernels"
)

// mainFunc runs a function as a pool's Main (on worker 0).
type mainFunc func()

func (f mainFunc) Main() { f() }

// A decode step's grouped projection (one parallel op over q, k, v)
// gives exactly the separate matmuls' outputs: at 1 and 2 threads, on
// the repacked and the GGUF layout, with row counts whose pieces cross
// from one matrix into the next, for one token and for the small
// batches of speculative verification (2-8 tokens, which group on the
// repacked layout only); and a group that cannot share an op
// (different widths) falls back to one matmul per matrix.
func TestMatmulGroupEqualsMatmuls(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ws := []*Matrix{randMatrix(r, 516, 2048), randMatrix(r, 132, 2048), randMatrix(r, 260, 2048)}
	mixed := []*Matrix{ws[0], randMatrix(r, 64, 1024)}
	x := make([]float32, 8*2048)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, th := range []int{1, 2} {
		for _, noRepack := range []bool{false, true} {
			e := exec{pool: pool.New(th, nil), ops: kernels.Active(), tiles: DefaultTiles(), noRepack: noRepack}
			for _, T := range []int{1, 2, 3, 5, 8} {
				for _, group := range [][]*Matrix{ws, mixed} {
					var want, got [3][]float32
					for i, w := range group {
						want[i] = make([]float32, T*w.Rows)
						got[i] = make([]float32, T*w.Rows)
					}
					e.pool.Exec(mainFunc(func() {
						for i, w := range group {
							e.matmul(want[i], w, x[:T*w.Cols], T)
						}
						e.matmulGroup(got, group, x[:T*group[0].Cols], T)
					}))
					for i := range group {
						for j := range want[i] {
							if got[i][j] != want[i][j] {
								t.Fatalf("threads %d, noRepack %v, T %d, %d matrices: matrix %d output %d: %v, separate matmul %v",
									th, noRepack, T, len(group), i, j, got[i][j], want[i][j])
							}
						}
					}
				}
			}
			e.pool.Close()
		}
	}
}

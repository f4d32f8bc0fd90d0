package engine

import (
	"fmt"

	"asdsl-bench/engine/pool"
	"asdsl-bench/kernels"
)

// GEMV multiplies weight matrices by one activation vector on its own
// pinned threads, exactly as a decode step does (activations quantized to
// the weight's dot type, rows split over the workers): the entry point of
// the GEMV microbenchmarks.
type GEMV struct {
	e             exec
	out, x        []float32
	ws            []*Matrix
	tokens        int // columns of x per product (1: GEMV)
	threads       int
	threadsPinned bool
}

// NewGEMV starts threads workers, pinned like a session's.
func NewGEMV(threads int) (*GEMV, error) {
	th, cpus, err := threadPlan(threads, nil)
	if err != nil {
		return nil, err
	}
	return &GEMV{e: exec{pool: pool.New(th, cpus), ops: kernels.Active(), tiles: DefaultTiles()}, threads: th, threadsPinned: cpus != nil}, nil
}

// Mul computes out = W·x (len(out) = w.Rows, len(x) = w.Cols).
func (g *GEMV) Mul(out []float32, w *Matrix, x []float32) error {
	return g.MulEach(out, []*Matrix{w}, x)
}

// MulEach computes out[:w.Rows] = w·x[:w.Cols] for each matrix in turn,
// in one hand-over to the workers, as a decode step runs its matmuls
// (one Exec per matrix would add a thread wake-up per matrix, which a
// decode step does not pay). out and x must be long enough for every
// matrix; out holds the last product.
func (g *GEMV) MulEach(out []float32, ws []*Matrix, x []float32) error {
	return g.MulEachBatch(out, ws, x, 1)
}

// MulEachBatch is MulEach for a batch of tokens activation vectors, as
// speculative verification multiplies them: x holds them one after
// another (tokens·w.Cols), out receives tokens·w.Rows, token-major.
// Each weight is read once for the whole batch.
func (g *GEMV) MulEachBatch(out []float32, ws []*Matrix, x []float32, tokens int) error {
	if tokens < 1 {
		return fmt.Errorf("gemv: batch of %d tokens", tokens)
	}
	for _, w := range ws {
		if len(out) < tokens*w.Rows || len(x) < tokens*w.Cols {
			return fmt.Errorf("gemv: %dx%d matrix, %d tokens, activations %d, output %d", w.Rows, w.Cols, tokens, len(x), len(out))
		}
	}
	g.out, g.ws, g.x, g.tokens = out, ws, x, tokens
	g.e.pool.Exec(g)
	g.out, g.ws, g.x = nil, nil, nil
	return nil
}

// Main runs on worker 0 (pool.Mainer).
func (g *GEMV) Main() {
	for _, w := range g.ws {
		g.e.matmul(g.out[:g.tokens*w.Rows], w, g.x[:g.tokens*w.Cols], g.tokens)
	}
}

// Threads is the number of workers and whether they are pinned.
func (g *GEMV) Threads() (int, bool) { return g.threads, g.threadsPinned }

// Workers reports each worker's thread and the CPU it is pinned to.
func (g *GEMV) Workers() []pool.WorkerInfo { return g.e.pool.Workers() }

// Rest parks the idle workers at once (pool.Pool.Rest): before another
// pool on the same CPUs runs, such as the roofline's read passes.
func (g *GEMV) Rest() { g.e.pool.Rest() }

// Close stops the workers.
func (g *GEMV) Close() { g.e.pool.Close() }

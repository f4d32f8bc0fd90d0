package engine

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"asdsl-bench/internal/testutil"
	"asdsl-bench/kernels"
)

// The fast transform equals the explicit Sylvester-Hadamard matrix
// product, and applying it twice gives the input back (H/√n is
// orthonormal and symmetric).
func TestHadamardIsTheOrthonormalSylvesterMatrix(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{64, 128, 256} {
		x := make([]float32, 3*n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		y := append([]float32(nil), x...)
		hadamard(kernels.Active(), y, n)
		for b := 0; b < 3; b++ {
			for i := 0; i < n; i++ {
				var want float64
				for j := 0; j < n; j++ {
					sign := 1.0
					if bits.OnesCount(uint(i&j))%2 == 1 {
						sign = -1
					}
					want += sign * float64(x[b*n+j])
				}
				want /= math.Sqrt(float64(n))
				if math.Abs(float64(y[b*n+i])-want) > 1e-5 {
					t.Fatalf("n=%d block %d row %d: %v, want %v", n, b, i, y[b*n+i], want)
				}
			}
		}
		hadamard(kernels.Active(), y, n)
		for i := range x {
			if math.Abs(float64(y[i]-x[i])) > 1e-5 {
				t.Fatalf("n=%d: H·H·x differs from x at %d: %v vs %v", n, i, y[i], x[i])
			}
		}
	}
	if k, v := hadamardBlocks(128); k != 128 || v != 64 {
		t.Fatalf("head 128: rotations %d/%d, want 128/64 (llama.cpp's)", k, v)
	}
	if k, v := hadamardBlocks(96); k != 0 || v != 0 {
		t.Fatalf("head 96: rotations %d/%d, want none", k, v)
	}
}

// Flash attention over the Q8_0 cache: a batched prompt and the same
// prompt fed token by token give bit-identical logits (key tiles start at
// absolute positions), for batches that are and are not multiples of the
// query block; and the result stays close to the f32 cache's.
func TestFlashBatchEqualsTokenByToken(t *testing.T) {
	m, err := Load(testutil.Golden(t, "phi3-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	prompt, _ := readGreedy(t, testutil.Golden(t, "phi3-Q4_K_M.p64.greedy.txt"))
	prompt = prompt[:37]
	vocab := m.Config.NVocab
	s1, _ := m.NewSession(SessionOptions{Context: 64, Threads: 2})
	batch, err := s1.Eval(prompt, true)
	if err != nil {
		t.Fatal(err)
	}
	batch = append([]float32(nil), batch...)
	s2, _ := m.NewSession(SessionOptions{Context: 64, Threads: 1})
	// Uneven pieces: 1, 20 (crosses a query block), then one at a time.
	pos := 0
	for _, n := range []int{1, 20} {
		lg, err := s2.Eval(prompt[pos:pos+n], true)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range lg {
			if v != batch[pos*vocab+i] {
				t.Fatalf("piece at %d: logit %d is %v, batch %v", pos, i, v, batch[pos*vocab+i])
			}
		}
		pos += n
	}
	for ; pos < len(prompt); pos++ {
		lg, err := s2.Eval(prompt[pos:pos+1], false)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range lg {
			if v != batch[pos*vocab+j] {
				t.Fatalf("position %d: logit %d is %v, batch %v", pos, j, v, batch[pos*vocab+j])
			}
		}
	}
	s3, _ := m.NewSession(SessionOptions{Context: 64, Threads: 2, Features: Features{NoFlash: true}})
	plain, err := s3.Eval(prompt, true)
	if err != nil {
		t.Fatal(err)
	}
	kl, top1 := klStats(plain, batch, vocab)
	t.Logf("Q8_0 cache + flash vs f32 cache: KL %.3g, top-1 %.1f%%", kl, 100*top1)
	if kl > 5e-3 || top1 < 0.9 {
		t.Fatalf("Q8_0 cache diverges from the f32 cache: KL %.3g, top-1 %.2f", kl, top1)
	}
}

// Small batches (2, 3, 6 tokens: the padded 4-token GEMM and the 8/4
// steps with tails) give the logits of one token at a time, bit for bit:
// speculative verification relies on it.
func TestSmallBatchesEqualTokenByToken(t *testing.T) {
	m, err := Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	prompt, _ := readGreedy(t, testutil.Golden(t, "llama-Q4_K_M.p64.greedy.txt"))
	prompt = prompt[:13]
	vocab := m.Config.NVocab
	one, _ := m.NewSession(SessionOptions{Context: 16, Threads: 2})
	var want []float32
	for _, tok := range prompt {
		lg, err := one.Eval([]int32{tok}, false)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, lg...)
	}
	batched, _ := m.NewSession(SessionOptions{Context: 16, Threads: 2})
	pos := 0
	for _, n := range []int{2, 3, 6, 2} {
		lg, err := batched.Eval(prompt[pos:pos+n], true)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range lg {
			if v != want[pos*vocab+i] {
				t.Fatalf("batch of %d at %d: logit %d is %v, token by token %v", n, pos, i, v, want[pos*vocab+i])
			}
		}
		pos += n
	}
}

package engine

import (
	"math"
	"testing"

	"asdsl-bench/internal/testutil"
	"asdsl-bench/kernels"
)

// Widening rows into panels changes nothing: a prompt long enough to
// take the panel path (with a 1-3 token tail), whole-depth or in depth
// tiles of one super-block, gives the logits of the K-quant GEMMs and of
// the GEMV loop bit for bit.
func TestPanelPathAgrees(t *testing.T) {
	if kernels.Active().GemmPanelQ8K32x4 == nil {
		t.Skipf("ISA %s has no panel kernel", kernels.Active().ISA)
	}
	m, err := Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	prompt, _ := readGreedy(t, testutil.Golden(t, "llama-Q4_K_M.p512.greedy.txt"))
	prompt = prompt[:131] // 32 tiles of 4 and a tail of 3
	eval := func(f Features, tiles Tiles) []float32 {
		s, err := m.NewSession(SessionOptions{Context: 256, Threads: 2, Features: f, Tiles: tiles})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		lg, err := s.Eval(prompt, true)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), lg...)
	}
	panel := DefaultTiles()
	panel.PanelMinTokens = 1
	noPanel := DefaultTiles()
	noPanel.PanelMinTokens = math.MaxInt
	deep := panel
	deep.K = 1
	want := eval(Features{}, noPanel)
	for _, c := range []struct {
		name string
		lg   []float32
	}{
		{"panels", eval(Features{}, panel)},
		{"panels, depth tiles of 1 block", eval(Features{}, deep)},
		{"GEMV loop", eval(Features{NoGEMM: true}, panel)},
	} {
		for i := range want {
			if c.lg[i] != want[i] {
				t.Fatalf("%s: logit %d (token %d) is %v, K-quant GEMM path %v", c.name, i, i/m.Config.NVocab, c.lg[i], want[i])
			}
		}
	}
}

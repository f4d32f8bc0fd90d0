package perplexity

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/engine/tokenizer"
	"asdsl-bench/internal/testutil"
)

// stories260K on WikiText-2's test set, as llama.cpp measured it
// (../shared/fixtures/real/README.md): llama-perplexity -c 128
// --chunks 50: PPL 279.1330 +/- 24.54135, running 76.0563, 109.7077,
// 97.6039 after chunks 1-3.
func TestPerplexityMatchesLlamaCpp(t *testing.T) {
	// The model is in engine/testdata; the text's first 120 kB (enough
	// for 50 chunks of 128 tokens) in testdata when ../shared is absent.
	m, err := engine.Load(filepath.Join(testutil.Root(t), "engine", "testdata", "stories260K-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	text, err := os.ReadFile(testutil.Fixture(t, "data/wikitext-2/test.txt", "wikitext-2/test-head.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromGGUF(&m.File.Meta)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	ids := tok.Encode(string(text), true, false)
	t.Logf("%d bytes -> %d tokens in %v", len(text), len(ids), time.Since(t0))
	if !tok.Vocab().AddBOS {
		t.Fatal("stories260K's vocabulary adds BOS")
	}
	r, err := Run(m, ids, Options{Ctx: 128, Chunks: 50, BOS: tok.Vocab().BOS, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PPL %.4f +/- %.5f; running %v", r.PPL, r.PPLErr, r.Running[:3])
	for i, want := range []float64{76.0563, 109.7077, 97.6039} {
		if math.Abs(r.Running[i]-want) > 1e-3*want {
			t.Errorf("after chunk %d: %.4f, llama.cpp %.4f", i+1, r.Running[i], want)
		}
	}
	if math.Abs(r.PPL-279.1330) > 1e-3*279.1330 || math.Abs(r.PPLErr-24.54135) > 1e-2*24.54135 {
		t.Errorf("PPL %.4f +/- %.5f, llama.cpp 279.1330 +/- 24.54135", r.PPL, r.PPLErr)
	}
}

func TestPerplexityRefusesWhatItCannotScore(t *testing.T) {
	m, err := engine.Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := Run(m, make([]int32, 10), Options{Ctx: 64, BOS: 1}); err == nil {
		t.Fatal("fewer tokens than a chunk accepted")
	}
	if _, err := Run(m, make([]int32, 1000), Options{Ctx: m.Config.NCtx + 1, BOS: 1}); err == nil {
		t.Fatal("a chunk past the model's context accepted")
	}
}

package harness

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/mock"
	"asdsl-bench/engine/quant"
	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/results"
	"asdsl-bench/internal/numerics"
)

// formatTypes are phase 1's comparison: the F16 mock, and the same file
// quantized by the engine's quantizer (quantize --type), so every format
// holds the same weights before rounding. (A quantized mock draws its
// blocks from a pool and is a different model.)
var formatTypes = []struct {
	name string
	ft   quant.FileType // 0: the F16 file itself
}{{"F16", 0}, {"Q8_0", quant.FileQ8_0}, {"Q4_K_M", quant.FileQ4_KM}}

// formatFile returns the F16 mock of a shape, or that file quantized to
// ft, made on first use and cached beside the mocks.
func formatFile(shape mock.Shape, seed uint64, ft quant.FileType, log io.Writer) (string, error) {
	f16, err := mock.Cached(mock.Options{Shape: shape, Type: gguf.TypeF16, Seed: seed})
	if err != nil || ft == 0 {
		return f16, err
	}
	out := strings.TrimSuffix(f16, ".gguf") + "-quantized-" + ft.String() + ".gguf"
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	fmt.Fprintf(log, "  quantizing %s to %s (once, then cached)\n", filepath.Base(f16), ft)
	if _, err := quant.File(f16, out, quant.Options{Type: ft}); err != nil {
		return "", err
	}
	return out, nil
}

// compareFormats measures what phase 1's format buys on every mock model
// the phase uses: bytes read per decoded token, decode speed and the KL
// of each format's next-token distributions to F16's over a prompt. It
// runs the process's (best) kernels and the whole engine (phase 1's own
// kernels are the pure-Go twins), so it shows the format, not the kernels.
func compareFormats(ph string, o Options, log io.Writer) ([]*results.FormatBench, error) {
	var out []*results.FormatBench
	for _, sm := range o.Suite.Models {
		if sm.Mock == nil || !sm.UsedIn(ph) {
			continue
		}
		shape, err := mock.Lookup(sm.Mock.Shape)
		if err != nil {
			return nil, err
		}
		fb := &results.FormatBench{Model: sm.Name}
		var ref []float32
		rng := rand.New(rand.NewPCG(9, 9))
		prompt := make([]int32, 32)
		for i := range prompt {
			prompt[i] = int32(rng.IntN(shape.Vocab))
		}
		for _, f := range formatTypes {
			path, err := formatFile(shape, sm.Mock.Seed, f.ft, log)
			if err != nil {
				return nil, err
			}
			row, lg, err := formatRow(path, f.name, prompt, o.Suite.Repetitions)
			if err != nil {
				return nil, fmt.Errorf("%s %s %s: %w", ph, sm.Name, f.name, err)
			}
			if f.ft == 0 {
				ref = lg
			} else if ref != nil {
				row.KLToF16, row.Top1ToF16 = numerics.KL(ref, lg, shape.Vocab)
			}
			fmt.Fprintf(log, "  format %s %s: %.1f MB per token, decode %.1f t/s, KL to F16 %.3g\n", sm.Name, f.name, float64(row.BytesPerToken)/1e6, row.DecodeTPS, row.KLToF16)
			fb.Rows = append(fb.Rows, row)
		}
		out = append(out, fb)
	}
	return out, nil
}

// formatRow loads one format's file, measures its decode and returns the
// prompt's logits at every position.
func formatRow(path, name string, prompt []int32, reps int) (results.FormatRow, []float32, error) {
	row := results.FormatRow{Format: name}
	m, err := engine.Load(path)
	if err != nil {
		return row, nil, err
	}
	defer m.Close()
	row.BytesPerToken = m.WeightBytes()
	s, err := m.NewSession(engine.SessionOptions{Context: len(prompt) + 32})
	if err != nil {
		return row, nil, err
	}
	defer s.Close()
	lg, err := s.Eval(prompt, true)
	if err != nil {
		return row, nil, err
	}
	logits := append([]float32(nil), lg...)
	r, err := measure.Run(s, measure.Options{Prompt: 8, Generate: 16, Reps: reps, Warmup: 1, Seed: 1})
	if err != nil {
		return row, nil, err
	}
	var tps []float64
	for _, x := range r.Samples {
		tps = append(tps, x.DecodeTPS)
	}
	row.DecodeTPS = results.Median(tps)
	return row, logits, nil
}

package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/mock"
	"asdsl-bench/engine/quant"
)

func runMock(args []string) error {
	fs := newFlags("mock", "mock --shape NAME -o FILE [--type f32|f16|bf16|q4_k_m|q4_k_s|q6_k|q8_0] [--seed N]")
	shape := fs.String("shape", "tiny", "model shape: "+strings.Join(mock.ShapeNames(), ", "))
	out := fs.String("o", "", "output GGUF file (required)")
	typ := fs.String("type", "f16", "matrix type: f32, f16, bf16, or a quantization recipe q4_k_m, q4_k_s, q6_k, q8_0\n(quantized mocks copy randomly drawn blocks of really quantized Gaussian weights)")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("-o is required")
	}
	s, err := mock.Lookup(*shape)
	if err != nil {
		return usageError{err}
	}
	o, err := mockFormat(*typ)
	if err != nil {
		return err
	}
	o.Shape, o.Seed = s, *seed
	start := time.Now()
	p := newProgress("writing " + *out)
	o.Progress = p.update
	err = mock.WriteFile(*out, o)
	p.finish()
	if err != nil {
		return err
	}
	st, _ := os.Stat(*out)
	fmt.Fprintf(os.Stderr, "wrote %s: %s shape, %s, %.2f GiB, %.3g params, in %v\n", *out, s.Name, o.Name(), float64(st.Size())/(1<<30), float64(s.Params()), time.Since(start).Round(time.Millisecond))
	return nil
}

// mockFormat reads --type: a float type or a quantization recipe.
func mockFormat(typ string) (mock.Options, error) {
	if ft, err := quant.ParseFileType(typ); err == nil {
		return mock.Options{Type: gguf.TypeF32, Quant: ft}, nil
	}
	t, ok := gguf.ParseType(typ)
	if !ok || (t != gguf.TypeF32 && t != gguf.TypeF16 && t != gguf.TypeBF16) {
		return mock.Options{}, usagef("--type %q: want f32, f16, bf16, q4_k_m, q4_k_s, q6_k or q8_0", typ)
	}
	return mock.Options{Type: t}, nil
}

// progress draws a one-line progress bar on stderr at most 10 times a second.
// When stderr is not a terminal (CI logs) it prints a plain line every 10%.
type progress struct {
	label   string
	last    time.Time
	drawn   bool
	tty     bool
	lastPct int
}

func newProgress(label string) *progress {
	st, err := os.Stderr.Stat()
	return &progress{label: label, tty: err == nil && st.Mode()&os.ModeCharDevice != 0, lastPct: -1}
}

func (p *progress) update(done, total int64) {
	if !p.tty {
		pct := int(100 * done / max(total, 1))
		if pct/10 != p.lastPct/10 {
			p.lastPct = pct
			fmt.Fprintf(os.Stderr, "%s: %d%%\n", p.label, pct/10*10)
		}
		return
	}
	if time.Since(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last = time.Now()
	p.drawn = true
	frac := float64(done) / float64(max(total, 1))
	const width = 30
	bar := strings.Repeat("#", int(frac*width)) + strings.Repeat(".", width-int(frac*width))
	fmt.Fprintf(os.Stderr, "\r%s [%s] %5.1f%% %.2f/%.2f GiB", p.label, bar, 100*frac, float64(done)/(1<<30), float64(total)/(1<<30))
}

func (p *progress) finish() {
	if p.tty && p.drawn {
		fmt.Fprintln(os.Stderr)
	}
}

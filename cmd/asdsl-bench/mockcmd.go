package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/mock"
	"asdsl-bench/engine/quant"
	"asdsl-bench/internal/progress"
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
	p := progress.New(os.Stderr, "writing "+*out, 0, progress.Bytes)
	o.Progress = p.Update
	err = mock.WriteFile(*out, o)
	p.Done()
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

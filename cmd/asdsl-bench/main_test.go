package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asdsl-bench/internal/testutil"
	"asdsl-bench/kernels"
)

func TestLogitsCommandMatchesGolden(t *testing.T) {
	raw, err := os.ReadFile(testutil.Golden(t, "phi3-f32.p64.greedy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	line := strings.SplitN(string(raw), "\n", 2)[0]
	ids := strings.Join(strings.Fields(strings.TrimPrefix(line, "prompt:")), ",")
	out := filepath.Join(t.TempDir(), "l.f32")
	if err := runLogits([]string{"-m", testutil.Golden(t, "phi3-f32.gguf"), "--tokens", ids, "-o", out, "--no-flash"}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(testutil.Golden(t, "phi3-f32.p64.logits.f32"))
	if len(got) != len(want) {
		t.Fatalf("wrote %d bytes, golden has %d", len(got), len(want))
	}
	var maxDiff float64
	for i := 0; i < len(got); i += 4 {
		a := math.Float32frombits(binary.LittleEndian.Uint32(got[i:]))
		b := math.Float32frombits(binary.LittleEndian.Uint32(want[i:]))
		maxDiff = math.Max(maxDiff, math.Abs(float64(a-b)))
	}
	if maxDiff > 1e-3 {
		t.Fatalf("logits differ from llama.cpp's by up to %g", maxDiff)
	}
}

func TestMockInfoGenerate(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ASDSL_CACHE", dir)
	model := filepath.Join(dir, "m.gguf")
	if err := runMock([]string{"--shape", "tiny-phi3", "--type", "f16", "-o", model}); err != nil {
		t.Fatal(err)
	}
	if err := runInfo([]string{"--meta", model}); err != nil {
		t.Fatal(err)
	}
	if err := runGenerate([]string{"-m", model, "-p", "Hi there", "-n", "4", "--temp", "0", "-q"}); err != nil {
		t.Fatal(err)
	}
	// A tuned settings file is applied (threads, layout, prefetch, tiles).
	tuned := filepath.Join(dir, "tuned.yaml")
	os.WriteFile(tuned, []byte("threads: 1\nrepack: false\nprefetch_bytes: 2048\ntile_rows: 32\npanel_min_tokens: 64\n"), 0o644)
	if err := runGenerate([]string{"-m", model, "-p", "Hi", "-n", "2", "--temp", "0", "-q", "--tuned", tuned}); err != nil {
		t.Fatal(err)
	}
	f, err := readTuned(tuned, flag.NewFlagSet("x", flag.ContinueOnError), model)
	if err != nil {
		t.Fatal(err)
	}
	if o := f.SessionOptions(0); o.Kernels.Prefetch != 2048 || o.Tiles.Rows != 32 || o.Threads != 1 || !o.Features.NoRepack {
		t.Fatalf("tuned settings not carried into the session: prefetch %d, tiles %+v, %+v", o.Kernels.Prefetch, o.Tiles, o)
	}
	if kernels.Active().Prefetch != kernels.DefaultPrefetch {
		t.Fatalf("--tuned changed the process's kernel table (prefetch %d)", kernels.Active().Prefetch)
	}
	// The default model is created in the cache on first use.
	if err := runGenerate([]string{"-n", "2", "-q"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "mock-tiny-*.gguf")); len(m) != 1 {
		t.Fatalf("default mock not cached: %v", m)
	}
}

func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ASDSL_CACHE", dir)
	model16 := filepath.Join(dir, "m16.gguf")
	if err := runMock([]string{"--shape", "tiny", "--type", "f16", "-o", model16}); err != nil {
		t.Fatal(err)
	}
	link16 := filepath.Join(dir, "hard-link.gguf")
	if err := os.Link(model16, link16); err != nil {
		t.Fatal(err)
	}
	badTuned := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badTuned, []byte("threads: 1\nrepack: true\nprefetch_bytes: 0\ntile_rows: 6\npanel_min_tokens: 64\n"), 0o644)
	cases := []struct {
		run  func([]string) error
		args []string
		want string
	}{
		{runGenerate, []string{"-n", "100000"}, "context"},
		{runGenerate, []string{"-m", filepath.Join(dir, "missing.gguf")}, notExist},
		{runLogits, []string{"-m", "x"}, "required"},
		{runLogits, []string{"-m", "x", "--tokens", "1,b", "-o", "y"}, "bad token id"},
		{runMock, []string{"--shape", "gpt5", "-o", "x"}, "unknown shape"},
		{runMock, []string{"--type", "q4_0", "-o", "x"}, "--type"},
		{runInfo, nil, "MODEL"},
		{runTune, []string{"-r", "3"}, "at least 4 rounds"},
		{runTune, []string{"--knobs", "threads,warp"}, "unknown knob \"warp\""},
		{runTune, []string{"-o", filepath.Join(dir, "nodir", "t.yaml")}, "no such directory"},
		{runTune, []string{"-m", filepath.Join(dir, "missing.gguf")}, notExist},
		{runBench, []string{"--tuned", filepath.Join(dir, "missing.yaml")}, notExist},
		{runBench, []string{"--tuned", badTuned}, "tile_rows 6"},
		{runGenerate, []string{"--tuned", badTuned}, "tile_rows 6"},
		// Values that used to pass silently (issue 19).
		{runGenerate, []string{"--tokens", "1,,2"}, "element 2 is empty"},
		{runGenerate, []string{"--tokens", ""}, "--tokens is empty"},
		{runGenerate, []string{"--temp", "NaN"}, "sampling flags out of range"},
		{runGenerate, []string{"-t", "-1"}, "-t must be >= 0"},
		{runGenerate, []string{"--ctx", "0"}, "--ctx must be > 0"},
		{runGenerate, []string{"--ctx", "-5"}, "--ctx must be > 0"},
		{runQuantize, []string{"-t", "-3", "a", "b"}, "-t must be >= 0"},
		{runCompare, []string{"--alpha", "7", "a", "b"}, "--alpha must be between 0 and 1"},
		{runBench, []string{"-t", "1,-2"}, "bad value"},
		{runQuantize, []string{model16, model16}, "is the input file"},
		{runQuantize, []string{model16, link16}, "is the input file"},
	}
	for _, c := range cases {
		if err := c.run(c.args); !errorIs(err, c.want) {
			t.Errorf("%v: got %v, want an error containing %q", c.args, err, c.want)
		}
	}
	var ue usageError
	if err := runLogits([]string{"--bogus"}); !errors.As(err, &ue) {
		t.Errorf("unknown flag is not a usage error: %v", err)
	}
}

// notExist stands for "the file is missing", which each OS words its own
// way ("no such file or directory", "File not found.").
const notExist = "(file does not exist)"

// errorIs reports whether err is the wanted error: containing want, or
// for notExist wrapping fs.ErrNotExist.
func errorIs(err error, want string) bool {
	if err == nil {
		return false
	}
	if want == notExist {
		return errors.Is(err, fs.ErrNotExist)
	}
	return strings.Contains(err.Error(), want)
}

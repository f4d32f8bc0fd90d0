package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"asdsl-bench/harness/measure"
	"asdsl-bench/internal/testutil"
)

// One cold start on a copy of a golden model: the copy leaves the page
// cache, and the record says so and times the start.
func TestColdStartCommand(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("evicting a file from the page cache (posix_fadvise) is Linux only; coldstart refuses elsewhere")
	}
	src, err := os.ReadFile(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(model, src, 0o644); err != nil {
		t.Fatal(err)
	}
	r, w, _ := os.Pipe()
	stdout := os.Stdout
	os.Stdout = w
	err = runColdStart([]string{"-m", model, "-p", "8", "-t", "1", "--no-prefetch"})
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var cs measure.ColdSample
	if err := json.Unmarshal(out, &cs); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if cs.Prefetch || !cs.Repack || cs.LoadMs <= 0 || cs.TTFTMs < cs.LoadMs || cs.ResidentAfterEvict > cs.ResidentBefore {
		t.Fatalf("%+v", cs)
	}
	if err := runColdStart([]string{"-p", "8"}); err == nil {
		t.Fatal("no model accepted")
	}
	if err := runColdStart([]string{"-m", model, "-p", "100000"}); err == nil {
		t.Fatal("a prompt past the context accepted")
	}
}

// perplexity runs end to end on the real trained model and refuses bad
// input with a usage error.
func TestPerplexityCommand(t *testing.T) {
	model := filepath.Join(testutil.Root(t), "engine", "testdata", "stories260K-f32.gguf")
	text := filepath.Join(t.TempDir(), "t.txt")
	os.WriteFile(text, []byte(strings.Repeat("Once upon a time, there was a little dog named Max. ", 40)), 0o644)
	if err := runPerplexity([]string{"-m", model, "-f", text, "-c", "64", "--chunks", "2", "-t", "1"}); err != nil {
		t.Fatal(err)
	}
	var ue usageError
	if err := runPerplexity([]string{"-m", model}); !errors.As(err, &ue) {
		t.Fatalf("no text file: %v", err)
	}
	if err := runPerplexity([]string{"-m", model, "-f", text, "-c", "100000"}); err == nil {
		t.Fatal("a context past the model's accepted")
	}
}

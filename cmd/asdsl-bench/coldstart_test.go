package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"asdsl-bench/harness/measure"
	"asdsl-bench/internal/testutil"
)

// One cold start on a copy of a golden model: the copy leaves the page
// cache, and the record says so and times the start.
func TestColdStartCommand(t *testing.T) {
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

package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// gunzipTo writes the gzip file src, uncompressed, into dir.
func gunzipTo(t *testing.T, src, dir string) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(src), ".gz"))
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTokenizeCommand(t *testing.T) {
	dir := t.TempDir()
	td := filepath.Join("..", "..", "engine", "tokenizer", "testdata")
	vocab := gunzipTo(t, filepath.Join(td, "vocab-qwen3-bpe.gguf.gz"), dir)
	edge := filepath.Join(td, "tokens-qwen3-bpe-edge.jsonl")
	var out bytes.Buffer
	tokenizeOut = &out
	defer func() { tokenizeOut = os.Stdout }()

	// --jsonl: the same lines, in order, with llama.cpp's ids.
	if err := runTokenize([]string{"-m", vocab, "-f", edge, "--jsonl"}); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(edge)
	wantLines := strings.Split(strings.TrimSpace(string(want)), "\n")
	gotLines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(gotLines) != len(wantLines) {
		t.Fatalf("%d lines out for %d in", len(gotLines), len(wantLines))
	}
	for i := range wantLines {
		var w, g struct {
			Text string  `json:"text"`
			IDs  []int32 `json:"ids"`
		}
		json.Unmarshal([]byte(wantLines[i]), &w)
		if err := json.Unmarshal([]byte(gotLines[i]), &g); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if g.Text != w.Text || !reflect.DeepEqual(g.IDs, w.IDs) {
			t.Errorf("line %d: got %q %v, want %q %v", i+1, g.Text, g.IDs, w.Text, w.IDs)
		}
	}

	// -p --ids: llama-tokenize's form.
	out.Reset()
	if err := runTokenize([]string{"-m", vocab, "-p", "Hello world", "--ids"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "[9707, 1879]" {
		t.Errorf("--ids printed %q", got)
	}

	// Errors name the problem.
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"text\": \"ok\"}\n{\"txt\": 1}\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-p", "x"}, "-m is required"},
		{[]string{"-m", vocab}, "exactly one of"},
		{[]string{"-m", vocab, "-p", "x", "-f", edge}, "exactly one of"},
		{[]string{"-m", vocab, "-p", "x", "--jsonl"}, "--jsonl reads a file"},
		{[]string{"-m", vocab, "-f", bad, "--jsonl"}, "line 2: no \"text\" field"},
		{[]string{"-m", filepath.Join(dir, "none.gguf"), "-p", "x"}, notExist},
	} {
		if err := runTokenize(c.args); !errorIs(err, c.want) {
			t.Errorf("%v: got %v, want an error containing %q", c.args, runTokenize(c.args), c.want)
		}
	}
}

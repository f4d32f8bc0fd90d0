package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// captureStdout runs f with os.Stdout redirected and returns what it wrote.
func captureStdout(t *testing.T, f func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		b.ReadFrom(r)
		done <- b.String()
	}()
	ferr := f()
	os.Stdout = old
	w.Close()
	return <-done, ferr
}

// A real trained model through the CLI: the prompt is tokenized as
// llama.cpp does and the greedy story is llama.cpp's, word for word
// (../shared/fixtures/real/README.md).
func TestGenerateRealModelText(t *testing.T) {
	model := filepath.Join("..", "..", "engine", "testdata", "stories260K-f32.gguf")
	out, err := captureStdout(t, func() error {
		return runGenerate([]string{"-m", model, "-p", "Once upon a time", "-n", "40", "--temp", "0", "-q"})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.\n"
	if out != want {
		t.Fatalf("generate printed\n %q\nllama.cpp:\n %q", out, want)
	}
}

// A draft whose vocabulary differs from the target's is an error, not a
// silent empty generation.
func TestGenerateDraftVocabularyMismatch(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ASDSL_CACHE", dir)
	draft := filepath.Join(dir, "d.gguf")
	if err := runMock([]string{"--shape", "tiny", "--type", "f32", "-o", draft}); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join("..", "..", "engine", "testdata", "stories260K-f32.gguf")
	_, err := captureStdout(t, func() error {
		return runGenerate([]string{"-m", model, "--draft", draft, "-n", "4", "-q"})
	})
	if err == nil || !strings.Contains(err.Error(), "vocab") {
		t.Fatalf("got %v, want an error about the vocabularies", err)
	}
}

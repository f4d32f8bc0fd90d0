package gguf

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A file just written and read is in the page cache; Evict drops it
// (except on tmpfs, where the page cache is the file: then it must say
// nothing left).
func TestEvictDropsTheFileFromThePageCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(i)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	before, after, err := Evict(path)
	if err != nil {
		t.Fatal(err)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		if after != before {
			t.Fatalf("tmpfs: resident %v before, %v after", before, after)
		}
		return
	}
	if before < 0.9 || after > 0.1 {
		t.Fatalf("resident %.2f before, %.2f after eviction", before, after)
	}
	if _, _, err := Evict(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing file was evicted")
	}
}

// InCache sees a mapped file's pages in the page cache once read, none
// after an eviction (except on tmpfs), and nothing of memory given to
// Parse.
func TestInCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(path, minimalGGUF(t, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := f.TensorData(&f.Tensors[0])
	if got := f.InCache(data); got < 0.99 {
		t.Fatalf("after a read, %.2f of the tensor in the page cache", got)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type != unix.TMPFS_MAGIC {
		if _, _, err := Evict(path); err != nil {
			t.Fatal(err)
		}
		if got := f.InCache(data[len(data)/2:]); got > 0.5 {
			t.Errorf("after an eviction, %.2f of the tensor's second half in the page cache", got)
		}
	}
	p, err := Parse(minimalGGUF(t, 4096))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.InCache(p.TensorData(&p.Tensors[0])); got != 0 {
		t.Errorf("parsed from memory: InCache %v, want 0", got)
	}
}

// minimalGGUF is a GGUF file of one F32 tensor of n bytes (n a multiple
// of 4).
func minimalGGUF(t *testing.T, n int) []byte {
	t.Helper()
	specs := []TensorSpec{{"w", []uint64{uint64(n / 4)}, TypeF32}}
	return buildFile(t, []KV{{"general.architecture", Str("llama")}}, specs, [][]byte{make([]byte, n)})
}

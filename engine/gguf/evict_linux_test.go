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

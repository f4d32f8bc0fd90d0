package mock

import (
	"fmt"
	"os"
	"path/filepath"

	"asdsl-bench/engine/gguf"
)

// CacheDir is where generated mock models are kept between runs:
// $ASDSL_CACHE, else the user cache directory.
func CacheDir() (string, error) {
	if d := os.Getenv("ASDSL_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set ASDSL_CACHE): %w", err)
	}
	return filepath.Join(d, "asdsl-bench"), nil
}

// WriteFile writes a mock model atomically to path.
func WriteFile(path string, o Options) error {
	a, err := gguf.CreateAtomic(path)
	if err != nil {
		return err
	}
	if err := Write(a, o); err != nil {
		a.Abort()
		return err
	}
	return a.Commit()
}

// Cached returns the path of a cached mock model, creating it first when
// absent. The name encodes shape, type and seed, so a cached file is
// always the model those parameters produce.
func Cached(o Options) (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("mock-%s-%s-seed%d.gguf", o.Shape.Name, o.Name(), o.Seed))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	return path, WriteFile(path, o)
}

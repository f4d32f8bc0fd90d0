package mock

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
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
// always the model those parameters produce; a checksum file beside it
// (CRC-32C of every byte, the size and the modification time) proves it
// still is, and a file that no longer matches (truncated by a full disk,
// damaged, replaced) is rebuilt, with a note through o.Log.
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
		why := verifyCached(path)
		if why == "" {
			return path, nil
		}
		o.logf("cached mock %s %s: rebuilding it", path, why)
		os.Remove(path)
		os.Remove(path + sumSuffix)
	}
	if err := WriteFile(path, o); err != nil {
		return "", err
	}
	return path, writeSum(path)
}

func (o Options) logf(format string, a ...any) {
	if o.Log != nil {
		o.Log(fmt.Sprintf(format, a...))
		return
	}
	fmt.Fprintf(os.Stderr, format+"\n", a...)
}

const sumSuffix = ".sum"

// cacheSum is the checksum file's content.
type cacheSum struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
	CRC32C  uint32 `json:"crc32c"`
}

// verifyCached says what is wrong with a cached file, or "" if nothing.
// A file whose size and time still match its checksum file is trusted
// without reading it (hashing 9 GB costs seconds per run); one without
// a checksum file (an older cache) is hashed once if it parses.
func verifyCached(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	raw, err := os.ReadFile(path + sumSuffix)
	if err != nil {
		f, err := gguf.Open(path)
		if err != nil {
			return fmt.Sprintf("does not parse (%v)", err)
		}
		f.Close()
		if err := writeSum(path); err != nil {
			return fmt.Sprintf("cannot be checksummed (%v)", err)
		}
		return ""
	}
	var want cacheSum
	if err := json.Unmarshal(raw, &want); err != nil {
		return "has an unreadable checksum file"
	}
	if st.Size() != want.Size {
		return fmt.Sprintf("is %d bytes, its checksum file says %d", st.Size(), want.Size)
	}
	if st.ModTime().UnixNano() == want.ModTime {
		return ""
	}
	crc, err := fileCRC(path)
	if err != nil {
		return err.Error()
	}
	if crc != want.CRC32C {
		return fmt.Sprintf("has checksum %08x, its checksum file says %08x", crc, want.CRC32C)
	}
	return ""
}

// writeSum records path's size, time and CRC-32C beside it.
func writeSum(path string) error {
	crc, err := fileCRC(path)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(cacheSum{Size: st.Size(), ModTime: st.ModTime().UnixNano(), CRC32C: crc})
	return os.WriteFile(path+sumSuffix, data, 0o644)
}

// fileCRC is the CRC-32C (Castagnoli, hardware-accelerated) of a file.
func fileCRC(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	if _, err := io.Copy(h, f); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}

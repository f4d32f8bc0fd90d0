//go:build !linux

package gguf

import (
	"fmt"
	"runtime"
)

// Evict is Linux-only (posix_fadvise and mincore): elsewhere a cold start
// cannot be made without privileges.
func Evict(path string) (before, after float64, err error) {
	return 0, 0, fmt.Errorf("evicting a file from the page cache is not supported on %s", runtime.GOOS)
}

// Settle is a no-op where the page cache cannot be told to drop a file.
func Settle(path string) error { return nil }

// InCache cannot tell here: 0.
func (f *File) InCache(b []byte) float64 { return 0 }

//go:build unix

package gguf

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// WillNeed asks the OS to start reading b — a view into a mapped model —
// from disk now (madvise MADV_WILLNEED), so a later first touch does not
// fault. It returns at once; the reads happen in the background.
func WillNeed(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	page := uintptr(unix.Getpagesize())
	off := uintptr(unsafe.Pointer(&b[0])) % page // madvise wants a page-aligned start; the mapping begins on a page
	start := unsafe.Add(unsafe.Pointer(&b[0]), -int(off))
	return unix.Madvise(unsafe.Slice((*byte)(start), uintptr(len(b))+off), unix.MADV_WILLNEED)
}

//go:build unix

package gguf

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// WillNeed asks the OS to start reading b — a view into a mapped model —
// from disk now (madvise MADV_WILLNEED), so a later first touch does not
// fault. It returns at once; the reads happen in the background.
func WillNeed(b []byte) error { return advise(b, unix.MADV_WILLNEED) }

// dontNeed tells the OS this process will not read b — a view into a
// mapped model — for now (madvise MADV_DONTNEED): its pages leave the
// resident set (they stay in the page cache), and a later read maps
// them again. Only whole pages inside b are released.
func dontNeed(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	page := uintptr(unix.Getpagesize())
	start := uintptr(unsafe.Pointer(&b[0]))
	skip := (page - start%page) % page // first whole page
	if uintptr(len(b)) <= skip {
		return nil
	}
	n := (uintptr(len(b)) - skip) &^ (page - 1)
	if n == 0 {
		return nil
	}
	return unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(&b[0]), skip)), n), unix.MADV_DONTNEED)
}

func advise(b []byte, advice int) error {
	if len(b) == 0 {
		return nil
	}
	page := uintptr(unix.Getpagesize())
	off := uintptr(unsafe.Pointer(&b[0])) % page // madvise wants a page-aligned start; the mapping begins on a page
	start := unsafe.Add(unsafe.Pointer(&b[0]), -int(off))
	return unix.Madvise(unsafe.Slice((*byte)(start), uintptr(len(b))+off), advice)
}

// mapsFiles says whether Open maps files (rather than reading them).
const mapsFiles = true

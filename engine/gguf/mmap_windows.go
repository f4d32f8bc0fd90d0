//go:build windows

package gguf

import (
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// mapFile maps the whole file read-only with a file mapping object; the
// handle can be closed once the view exists.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	h, err := windows.CreateFileMapping(windows.Handle(f.Fd()), nil, windows.PAGE_READONLY,
		uint32(uint64(size)>>32), uint32(size), nil)
	if err != nil {
		return nil, nil, err
	}
	addr, err := windows.MapViewOfFile(h, windows.FILE_MAP_READ, 0, 0, uintptr(size))
	windows.CloseHandle(h)
	if err != nil {
		return nil, nil, err
	}
	// The view is memory the OS owns, outside Go's heap: unsafe.Add from
	// nil turns its address into a pointer without the uintptr-to-Pointer
	// conversion vet rightly distrusts for Go memory.
	data := unsafe.Slice((*byte)(unsafe.Add(nil, addr)), size)
	return data, func() error { return windows.UnmapViewOfFile(addr) }, nil
}

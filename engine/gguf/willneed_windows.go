//go:build windows

package gguf

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

var prefetchVirtualMemory = windows.NewLazySystemDLL("kernel32.dll").NewProc("PrefetchVirtualMemory")

// WillNeed asks Windows to read b — a view into a mapped model — into
// memory now (PrefetchVirtualMemory, Windows 8 and later; a no-op where
// the call does not exist).
func WillNeed(b []byte) error {
	if len(b) == 0 || prefetchVirtualMemory.Find() != nil {
		return nil
	}
	type memoryRange struct {
		addr uintptr
		size uintptr
	}
	r := memoryRange{uintptr(unsafe.Pointer(&b[0])), uintptr(len(b))}
	ok, _, err := prefetchVirtualMemory.Call(uintptr(windows.CurrentProcess()), 1, uintptr(unsafe.Pointer(&r)), 0)
	if ok == 0 {
		return err
	}
	return nil
}

// dontNeed does nothing on Windows: the working-set manager trims
// unused mapped pages by itself.
func dontNeed(b []byte) error { return nil }

// mapsFiles says whether Open maps files (rather than reading them).
const mapsFiles = true

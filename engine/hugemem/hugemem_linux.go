package hugemem

import (
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// allocHuge maps n bytes (plus one huge page of slack to align the start
// to a huge page boundary) of private anonymous memory and advises
// MADV_HUGEPAGE before any page is touched, so faults come in 2 MiB
// pages where THP allows. The advice failing is not an error: the memory
// is still good, in 4 KiB pages.
func allocHuge(n int) ([]byte, func()) {
	whole, err := unix.Mmap(-1, 0, n+PageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, nil
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(whole)))
	off := int((PageSize - addr%PageSize) % PageSize)
	b := whole[off : off+n : off+n]
	_ = unix.Madvise(whole[off:], unix.MADV_HUGEPAGE)
	return b, func() { _ = unix.Munmap(whole) }
}

// thpSetting is the active transparent huge page setting ("always",
// "madvise", "never"), or an error.
func thpSetting() (string, error) {
	d, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return "", err
	}
	// The active setting is the bracketed one: "always [madvise] never".
	s := strings.TrimSpace(string(d))
	if i, j := strings.IndexByte(s, '['), strings.IndexByte(s, ']'); i >= 0 && j > i {
		s = s[i+1 : j]
	}
	return s, nil
}

func available() bool {
	s, err := thpSetting()
	return err == nil && (s == "always" || s == "madvise")
}

func mode() string {
	s, err := thpSetting()
	if err != nil {
		return "transparent huge pages: unknown (" + err.Error() + ")"
	}
	switch s {
	case "always", "madvise":
		return "transparent huge pages: " + s + " (repacked weights advise 2 MiB pages)"
	default:
		return "transparent huge pages: " + s + " (repacked weights stay in 4 KiB pages)"
	}
}

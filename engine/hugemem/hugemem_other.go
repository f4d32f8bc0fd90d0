//go:build !linux

package hugemem

// Elsewhere large pages need privileges (Windows: SeLockMemoryPrivilege)
// or a different API; ordinary memory is used.
func allocHuge(n int) ([]byte, func()) { return nil, nil }

func available() bool { return false }

func mode() string { return "huge pages: not used on this OS" }

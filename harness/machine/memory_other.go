//go:build !linux && !windows

package machine

// TotalMemory is the machine's physical memory in bytes (0: unknown on
// this OS).
func TotalMemory() int64 { return 0 }

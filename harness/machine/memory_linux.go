package machine

import "golang.org/x/sys/unix"

// TotalMemory is the machine's physical memory in bytes (0 if unknown).
func TotalMemory() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

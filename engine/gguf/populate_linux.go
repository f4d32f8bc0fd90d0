package gguf

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Populate reads b's pages in and maps them into this process now
// (madvise MADV_POPULATE_READ, Linux 5.14+), returning when done; older
// kernels (EINVAL) fall back to WillNeed's asynchronous read-ahead.
func Populate(b []byte) error {
	err := advise(b, unix.MADV_POPULATE_READ)
	if errors.Is(err, unix.EINVAL) {
		return WillNeed(b)
	}
	return err
}

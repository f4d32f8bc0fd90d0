package gguf

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Evict drops a file's pages from the page cache (posix_fadvise
// DONTNEED: no privilege needed), so the next load reads it from disk:
// a cold start. Pages some process still maps stay; the shares of the
// file resident before and after (mincore) say how cold it became.
func Evict(path string) (before, after float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	if st.Size() == 0 {
		return 0, 0, fmt.Errorf("%s: empty file", path)
	}
	if before, err = resident(f, st.Size()); err != nil {
		return 0, 0, err
	}
	if err := unix.Fdatasync(int(f.Fd())); err != nil { // dirty pages cannot be dropped
		return 0, 0, fmt.Errorf("%s: sync: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return 0, 0, fmt.Errorf("%s: fadvise DONTNEED: %w", path, err)
	}
	after, err = resident(f, st.Size())
	return before, after, err
}

// InCache is the share of the pages under b, a view into this file's
// mapping, that are in the page cache (mincore); 0 when it cannot tell.
func (f *File) InCache(b []byte) float64 {
	if !f.mapped || len(b) == 0 {
		return 0
	}
	page := uintptr(unix.Getpagesize())
	off := uintptr(unsafe.Pointer(&b[0])) % page
	start := uintptr(unsafe.Pointer(&b[0])) - off
	n := (uintptr(len(b)) + off + page - 1) / page
	vec := make([]byte, n)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, start, n*page, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		return 0
	}
	in := 0
	for _, v := range vec {
		in += int(v & 1)
	}
	return float64(in) / float64(n)
}

// resident is the share of the file's pages in the page cache.
func resident(f *os.File, size int64) (float64, error) {
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(data)
	page := int64(unix.Getpagesize())
	vec := make([]byte, (size+page-1)/page)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return 0, fmt.Errorf("mincore: %w", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return float64(n) / float64(len(vec)), nil
}

// Settle drops the pages a writer of path left in the page cache, so the
// first load reads the file afresh. Measured here on a 7B model just
// written by `repack`: decode from the mapping ran 1-4 t/s with the
// writer's pages and 7.4-7.8 t/s once they were evicted and read back
// (a copy made with cp: 9.1). The pages a write leaves behind map worse
// than those a read brings in. A no-op for a file still mapped.
func Settle(path string) error {
	_, _, err := Evict(path)
	return err
}

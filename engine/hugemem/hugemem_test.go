package hugemem

import (
	"runtime"
	"testing"
	"unsafe"
)

// Big buffers are zeroed, writable, huge-page aligned on Linux, and
// releasing twice is harmless; small ones come from the heap.
func TestAlloc(t *testing.T) {
	for _, n := range []int{1, 4096, minBytes - 1, minBytes, minBytes + 12345} {
		b, release := Alloc(n)
		if len(b) != n {
			t.Fatalf("Alloc(%d): len %d", n, len(b))
		}
		for i := 0; i < n; i += 4093 {
			if b[i] != 0 {
				t.Fatalf("Alloc(%d): byte %d is %d", n, i, b[i])
			}
			b[i] = byte(i)
		}
		b[n-1] = 7
		if runtime.GOOS == "linux" && n >= minBytes {
			if a := uintptr(unsafe.Pointer(&b[0])); a%PageSize != 0 {
				t.Fatalf("Alloc(%d) at %#x: not 2 MiB aligned", n, a)
			}
		}
		release()
		release()
	}
	if Mode() == "" {
		t.Fatal("empty mode")
	}
}

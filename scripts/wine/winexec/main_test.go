package main

import "testing"

func TestClassify(t *testing.T) {
	out := `--- FAIL: TestA (0.02s)
    testing.go:1464: TempDir RemoveAll cleanup: unlinkat C:\x\f.gguf: Invalid function.
--- FAIL: TestB (0.01s)
    b_test.go:12: got 3, want 4
--- FAIL: TestC (0.01s)
    --- FAIL: TestC/sub (0.00s)
        testing.go:1464: TempDir RemoveAll cleanup: unlinkat C:\y: Invalid function.
FAIL
`
	forgiven, real := classify(out)
	if forgiven != 2 || real != 1 {
		t.Fatalf("forgiven %d real %d, want 2 and 1", forgiven, real)
	}
}

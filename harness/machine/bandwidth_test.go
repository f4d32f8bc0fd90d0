package machine

import (
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"asdsl-bench/kernels"
)

// Every read pattern reads every byte of its units exactly once: the
// sums agree with one sum over the whole buffer.
func TestReadPatternsReadEveryByteOnce(t *testing.T) {
	buf := make([]byte, 5*unitBytes)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	want := kernels.SumU64(buf)
	for _, p := range append(readPatterns, readPattern{3, false}, readPattern{2, true}) {
		task := readTask{buf: buf, readPattern: p, sums: make([][8]uint64, 2)}
		task.Run(0, 0, 2) // two units on worker 0
		task.Run(1, 2, 5) // three on worker 1
		if got := task.sums[0][0] + task.sums[1][0]; got != want {
			t.Errorf("%+v: sum %#x, want %#x", p, got, want)
		}
	}
}

func TestCopyTaskCopiesFirstHalf(t *testing.T) {
	buf := make([]byte, 4*unitBytes)
	for i := range buf[:len(buf)/2] {
		buf[i] = byte(i % 251)
	}
	task := copyTask{buf: buf}
	task.Run(0, 0, 1)
	task.Run(1, 1, 2)
	for i := 0; i < len(buf)/2; i++ {
		if buf[len(buf)/2+i] != buf[i] {
			t.Fatalf("byte %d not copied", i)
		}
	}
}

// The measurement runs on a small working set and reports what it did
// (no assertion on speed).
func TestMeasureBandwidthReports(t *testing.T) {
	for _, th := range []int{1, 2} {
		b := MeasureBandwidth(th, 4<<20, 2)
		if b.ReadGBs <= 0 || b.CopyGBs <= 0 {
			t.Errorf("%d threads: read %v, copy %v GB/s", th, b.ReadGBs, b.CopyGBs)
		}
		if b.Passes != 2*len(readPatterns) {
			t.Errorf("%d threads: %d passes, want %d", th, b.Passes, 2*len(readPatterns))
		}
		if b.Threads != th || b.Streams < 1 || b.Bytes != 4<<20 {
			t.Errorf("%d threads: got %+v", th, b)
		}
		if !strings.Contains(b.Describe(), "stream(s) per thread") {
			t.Errorf("Describe: %q", b.Describe())
		}
	}
}

func TestInconsistentFigures(t *testing.T) {
	bw := map[int]Bandwidth{
		1: {ReadGBs: 38, CopyGBs: 39},
		2: {ReadGBs: 33, CopyGBs: 60}, // below the 1-thread read
		4: {ReadGBs: 30, CopyGBs: 75},
	}
	if why := inconsistent(bw, 1); why != "" {
		t.Errorf("1 thread: %q, want consistent", why)
	}
	if why := inconsistent(bw, 2); !strings.Contains(why, "below the 1-thread figure") {
		t.Errorf("2 threads: %q", why)
	}
	bw[2] = Bandwidth{ReadGBs: 70, CopyGBs: 72}
	if why := inconsistent(bw, 2); why != "" {
		t.Errorf("2 threads after the fix: %q", why)
	}
	if why := inconsistent(bw, 4); !strings.Contains(why, "half the copy figure") {
		t.Errorf("4 threads: %q", why)
	}
}

// The peak counts each thread's work once: a fake kernel that reports n
// multiply-adds per call gives a positive figure from every thread.
func TestInt8PeakCountsEachThread(t *testing.T) {
	var calls atomic.Int32
	fake := func(n int) (int64, string) {
		calls.Add(1)
		time.Sleep(time.Millisecond)
		return int64(n), "fake"
	}
	p := MeasureInt8PeakOf(fake, 2, 20*time.Millisecond, 2)
	if p.Instr != "fake" || p.GMACs <= 0 {
		t.Errorf("got %+v", p)
	}
	if n := calls.Load(); n < 1+2*2 {
		t.Errorf("%d kernel calls, want calibration plus two threads per rep", n)
	}
}

package hostload

import (
	"runtime"
	"testing"
	"time"
)

// A busy loop in this process is "other" load when the caller does not
// count it as its own, and is subtracted when it does: the difference is
// exactly the process's CPU time over the machine's.
func TestBetweenSeparatesOwnCPUFromOthers(t *testing.T) {
	if runtime.GOOS != "linux" {
		if _, err := Take(); err == nil {
			t.Fatal("Take succeeded without /proc/stat")
		}
		return
	}
	a, err := Take()
	if err != nil {
		t.Fatal(err)
	}
	if a.CPUs < 1 {
		t.Fatalf("%d CPUs", a.CPUs)
	}
	// Spin until this process has used 300 ms of CPU (on a busy host
	// that takes longer than 300 ms of wall time).
	own0 := SelfCPU()
	start := time.Now()
	x := 0
	for SelfCPU()-own0 < 300*time.Millisecond && time.Since(start) < 20*time.Second {
		for i := 0; i < 1_000_000; i++ {
			x++
		}
	}
	b, err := Take()
	if err != nil {
		t.Fatal(err)
	}
	own := SelfCPU() - own0
	if own < 300*time.Millisecond {
		t.Fatalf("20 s of spinning got %v of CPU", own)
	}
	asOthers, err := Between(a, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	asOwn, err := Between(a, b, own)
	if err != nil {
		t.Fatal(err)
	}
	total := float64(b.Total - a.Total)
	want := float64(own) / total
	got := asOthers.Other - asOwn.Other
	// Ticks are 10 ms; allow two per CPU of rounding on each side.
	if d := got - want; d > 0.1 || d < -0.1 || asOthers.Other < 0.5*want {
		t.Fatalf("own CPU %v: other %.3f counted as others, %.3f subtracted; want a difference of %.3f", own, asOthers.Other, asOwn.Other, want)
	}
	_ = x
}

func TestBetweenRejectsUnmeasuredSnapshots(t *testing.T) {
	if _, err := Between(Snapshot{}, Snapshot{}, 0); err == nil {
		t.Fatal("Between accepted empty snapshots")
	}
	l := Load{Other: 0.25, Steal: 0.05}
	if d := l.Disturbance(); d < 0.299 || d > 0.301 {
		t.Fatalf("disturbance %v", d)
	}
	if clamp01(-1) != 0 || clamp01(2) != 1 || clamp01(0.5) != 0.5 {
		t.Fatal("clamp01")
	}
}

package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// In a log (not a terminal) a bar writes whole lines, one per tenth and
// a last one, with no carriage returns; the ETA follows the rate.
func TestLogLines(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "work", 100, Items)
	clock := b.start
	b.now = func() time.Time { return clock }
	for i := 1; i <= 100; i++ {
		clock = clock.Add(100 * time.Millisecond)
		b.Set(int64(i))
	}
	b.Done()
	out := buf.String()
	if strings.Contains(out, "\r") {
		t.Fatalf("carriage return in a log:\n%q", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 11 { // 10%, 20%, ... 100%, then Done
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	if lines[0] != "work  10% 10/100, ETA 9s" {
		t.Fatalf("first line %q", lines[0])
	}
	if !strings.HasSuffix(lines[10], "100% 100/100 in 10s") {
		t.Fatalf("last line %q", lines[10])
	}
}

// A slow piece of work still says something every 30 seconds.
func TestLogHeartbeat(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "slow", 1000, Bytes)
	clock := b.start
	b.now = func() time.Time { return clock }
	clock = clock.Add(31 * time.Second)
	b.Set(1)
	if !strings.Contains(buf.String(), "slow   0% 0.0/0.0 MiB, ETA") {
		t.Fatalf("no heartbeat: %q", buf.String())
	}
}

func TestNilBar(t *testing.T) {
	var b *Bar
	b.Set(1)
	b.Add(1)
	b.Update(1, 2)
	b.Done()
}

// A quiet bar in a log says nothing for a short step, and a heartbeat
// and a last line for a long one.
func TestQuiet(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "short", 5, Items).Quiet()
	for i := 1; i <= 5; i++ {
		b.Set(int64(i))
	}
	b.Done()
	if buf.Len() != 0 {
		t.Fatalf("a short quiet step wrote %q", buf.String())
	}
	b = New(&buf, "long", 5, Items).Quiet()
	clock := b.start
	b.now = func() time.Time { return clock }
	clock = clock.Add(40 * time.Second)
	b.Set(1)
	b.Done()
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 2 {
		t.Fatalf("a long quiet step wrote %q", buf.String())
	}
}

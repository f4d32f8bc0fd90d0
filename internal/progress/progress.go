// Package progress shows how far long work has come: a bar with a rate
// and an ETA redrawn in place on a terminal (at most ten times a
// second), and on anything else (a CI log, a file) a plain line every
// tenth of the way and at least every 30 seconds, never a carriage
// return. A nil *Bar does nothing, so callers need not check.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Unit says how to print amounts.
type Unit int

const (
	Items Unit = iota // "3/12"
	Bytes             // "1.20/4.00 GiB"
)

// Bar is one piece of long work. Safe for concurrent use.
type Bar struct {
	mu          sync.Mutex
	w           io.Writer
	label       string
	unit        Unit
	total, done int64
	tty         bool
	start       time.Time
	last        time.Time // last draw (terminal) or line (log)
	lastTenth   int64
	drawn       bool
	quiet       bool // in a log: heartbeats only
	spoke       bool // wrote anything
	now         func() time.Time
}

// Quiet makes the bar, in a log, write only the 30-second heartbeats
// and, if it wrote one, a last line: for the many short steps of a run,
// whose own log lines say when each ends, so that only a long one
// speaks up. On a terminal it changes nothing.
func (b *Bar) Quiet() *Bar {
	if b != nil {
		b.quiet = true
	}
	return b
}

// New starts a bar of total units on w. On a terminal it draws in place;
// elsewhere it writes lines.
func New(w io.Writer, label string, total int64, unit Unit) *Bar {
	b := &Bar{w: w, label: label, unit: unit, total: max(total, 0), lastTenth: 0, now: time.Now}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	b.start = b.now()
	b.last = b.start
	return b
}

// Set records the amount done so far.
func (b *Bar) Set(done int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = min(max(done, 0), max(b.total, done))
	b.show(false)
}

// Add records n more units done.
func (b *Bar) Add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	d := b.done + n
	b.mu.Unlock()
	b.Set(d)
}

// Update is Set with the total, for callbacks that report both (the
// mock writer's and the quantizer's).
func (b *Bar) Update(done, total int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.total = total
	b.mu.Unlock()
	b.Set(done)
}

// Drew says whether the bar has shown anything yet (a step that never
// reported needs no last line).
func (b *Bar) Drew() bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.drawn || b.spoke
}

// Done ends the bar with a last line: the amount and the time taken.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.show(true)
}

func (b *Bar) show(final bool) {
	now := b.now()
	if b.tty {
		if !final && now.Sub(b.last) < 100*time.Millisecond && b.drawn {
			return
		}
		b.last, b.drawn = now, true
		fmt.Fprintf(b.w, "\r%s\x1b[K", b.line(now, true))
		if final {
			fmt.Fprintln(b.w)
		}
		return
	}
	tenth := int64(0)
	if b.total > 0 {
		tenth = 10 * b.done / b.total
	}
	heartbeat := now.Sub(b.last) >= 30*time.Second
	switch {
	case b.quiet && final && !b.spoke, b.quiet && !final && !heartbeat:
		return
	case !final && tenth <= b.lastTenth && !heartbeat:
		return
	}
	b.lastTenth, b.last, b.spoke = tenth, now, true
	fmt.Fprintln(b.w, b.line(now, false))
}

// line is "label [####......] 40% 4/10, 2.1/s, ETA 3s" (the bar only on
// a terminal).
func (b *Bar) line(now time.Time, bar bool) string {
	var s strings.Builder
	s.WriteString(b.label)
	frac := 0.0
	if b.total > 0 {
		frac = float64(b.done) / float64(b.total)
	}
	if bar {
		const width = 24
		n := int(frac * width)
		fmt.Fprintf(&s, " [%s%s]", strings.Repeat("#", n), strings.Repeat(".", width-n))
	}
	fmt.Fprintf(&s, " %3.0f%% %s", 100*frac, b.amount())
	el := now.Sub(b.start)
	switch {
	case b.done >= b.total && b.total > 0:
		fmt.Fprintf(&s, " in %v", el.Round(100*time.Millisecond))
	case b.done > 0 && el > 0:
		eta := time.Duration(float64(el) * float64(b.total-b.done) / float64(b.done))
		fmt.Fprintf(&s, ", ETA %v", eta.Round(time.Second))
	}
	return s.String()
}

func (b *Bar) amount() string {
	if b.unit == Bytes {
		if b.total < 1<<30 {
			return fmt.Sprintf("%.1f/%.1f MiB", float64(b.done)/(1<<20), float64(b.total)/(1<<20))
		}
		return fmt.Sprintf("%.2f/%.2f GiB", float64(b.done)/(1<<30), float64(b.total)/(1<<30))
	}
	return fmt.Sprintf("%d/%d", b.done, b.total)
}

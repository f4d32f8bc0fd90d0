package dashboard

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"asdsl-bench/harness/store"
	"asdsl-bench/internal/testruns"
)

// chromium finds a Chromium to drive: $ASDSL_CHROMIUM, else Debian's
// chromium, else a Chrome on the PATH.
func chromium() string {
	if p := os.Getenv("ASDSL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// The dashboard in a real browser: every page loads without a console
// error or an uncaught exception, the history chart shows one point per
// run, and the two-run comparison shows the right change.
func TestDashboardInChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("dashboard NOT TESTED in a browser: no Chromium (Debian package chromium, or set ASDSL_CHROMIUM)")
	}
	s, runs := filled(t)
	srv := httptest.NewServer(Handler(s))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	// The page's console and uncaught exceptions, and the browser's log
	// (a failed request, say), collected while the pages load.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var problems []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s: %s (%s)", m.Type, m.String(), m.URL))
				mu.Unlock()
			}
		}
	}()
	l := served{}
	m1 := store.MachineID(testruns.Machine(1))
	visit := func(path string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		mu.Lock()
		problems = nil
		mu.Unlock()
		if err := chromedp.Do(ctx, append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(srv.URL + path), chromedp.WaitReady(chromedp.CSS("body"))}, actions...)...); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		time.Sleep(300 * time.Millisecond) // late messages
		mu.Lock()
		defer mu.Unlock()
		if len(problems) > 0 {
			t.Errorf("%s: %s", path, strings.Join(problems, "; "))
		}
	}
	eval := func(expr string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return n
	}
	visit(l.Index())
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title != "asdsl-bench results" {
		t.Errorf("index title %q, %v", title, err)
	}
	// Follow the index's link to the machine's history, as a user would.
	visit(l.Index(), chromedp.Click(chromedp.CSS("a.model")), chromedp.WaitVisible(chromedp.CSS("svg.chart")))
	points := eval(`document.querySelectorAll('svg[aria-label="decode tok/s"] circle.pt').length`)
	targets := eval(`document.querySelectorAll('svg[aria-label="decode tok/s"] line.target').length`)
	if points != 4 || targets != 1 {
		t.Errorf("machine page: decode chart has %d points and %d target lines, want 4 and 1", points, targets)
	}
	visit(l.Machine(m1, "tiny"))
	visit(l.Compare(runs[0].ID, runs[3].ID))
	change, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll('#deltas tr')].find(r => r.cells[1] && r.cells[1].textContent === 'decode-tok/s').querySelector('.change').textContent`))
	if err != nil || change != "+7.5%" {
		t.Errorf("compare 40 -> 43 t/s: change %q (%v), want +7.5%%", change, err)
	}
	visit(l.Run(runs[1].ID))
	if n := eval(`document.querySelectorAll('.report table').length`); n == 0 {
		t.Errorf("run page: the report has no tables")
	}
	visit(l.Failures())
	if n := eval(`document.querySelectorAll('#failures td.bad').length`); n != 1 {
		t.Errorf("failures page: %d failed gates, want 1", n)
	}
}

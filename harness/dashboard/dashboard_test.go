package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"asdsl-bench/harness/report"
	"asdsl-bench/harness/results"
	"asdsl-bench/harness/store"
	"asdsl-bench/internal/testruns"
)

// filled is a store holding a recorded history: four runs on one
// machine (decode 40, 41, 42, 43 t/s against a 41 t/s target, so the
// first fails) and one on another.
func filled(t *testing.T) (*store.Store, []*results.Run) {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var runs []*results.Run
	for i := 0; i < 4; i++ {
		runs = append(runs, testruns.Run(i, testruns.Machine(1), 40+float64(i), 41))
	}
	runs = append(runs, testruns.Run(9, testruns.Machine(2), 20, 10))
	for _, r := range runs {
		if _, err := s.Save(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return s, runs
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s\n%s", url, resp.Status, body)
	}
	return string(body)
}

var decodePoints = regexp.MustCompile(`(?s)aria-label="decode tok/s".*?</svg>`)

func TestPages(t *testing.T) {
	s, runs := filled(t)
	srv := httptest.NewServer(Handler(s))
	defer srv.Close()
	l := served{}
	m1 := store.MachineID(testruns.Machine(1))

	index := get(t, srv.URL+l.Index())
	for _, want := range []string{m1, "Test CPU 1", "Test CPU 2", l.Machine(m1, "tiny"), report.ShortCommit(runs[3].Commit), `class="bad">fail`} {
		if !strings.Contains(index, strings.ReplaceAll(want, "&", "&amp;")) {
			t.Errorf("index lacks %q", want)
		}
	}
	page := get(t, srv.URL+l.Machine(m1, "tiny"))
	chart := decodePoints.FindString(page)
	if n := strings.Count(chart, `class="pt"`); n != 4 {
		t.Errorf("decode chart has %d points, want 4 (one per run)", n)
	}
	if !strings.Contains(chart, `class="target"`) || !strings.Contains(chart, `data-value="41"`) {
		t.Errorf("decode chart lacks the 41 t/s target line")
	}
	for _, v := range []string{"40.0", "43.0"} {
		if !strings.Contains(chart, ">"+v+"<") {
			t.Errorf("decode chart does not show the value %s", v)
		}
	}
	run := get(t, srv.URL+l.Run(runs[2].ID))
	if !strings.Contains(run, "asdsl-bench report") || !strings.Contains(run, "<table>") || !strings.Contains(run, "<svg") {
		t.Errorf("run page: no rendered report, table or chart")
	}
	cmp := get(t, srv.URL+l.Compare(runs[0].ID, runs[3].ID))
	if !strings.Contains(cmp, `class="num change">&#43;7.5%`) {
		t.Errorf("compare 40 -> 43 t/s: no +7.5%% change in\n%s", cmp)
	}
	fails := get(t, srv.URL+l.Failures())
	if strings.Count(fails, `<td class="num bad">`) != 1 || !strings.Contains(fails, ">40.0<") {
		t.Errorf("failures page: want the one failed gate (40 t/s)\n%s", fails)
	}
	resp, err := http.Get(srv.URL + l.Run("no-such-run"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing run: %s", resp.Status)
	}
}

// The static site has the same pages, linked by relative file names,
// and nothing is fetched from elsewhere.
func TestStatic(t *testing.T) {
	s, runs := filled(t)
	dir := t.TempDir()
	n, err := Static(context.Background(), s, dir)
	if err != nil {
		t.Fatal(err)
	}
	// index, failures, 2 machine pages, 5 runs, 3 comparisons
	if n != 12 {
		t.Errorf("%d pages, want 12", n)
	}
	l := static{}
	href := regexp.MustCompile(`(?:href|src)="([^"]*)"`)
	files, _ := filepath.Glob(filepath.Join(dir, "*.html"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, m := range href.FindAllStringSubmatch(string(data), -1) {
			target := m[1]
			if strings.HasPrefix(target, "data:") {
				continue // inline, fetches nothing
			}
			if strings.Contains(target, "://") || strings.HasPrefix(target, "/") {
				t.Errorf("%s links outside the site: %s", filepath.Base(f), target)
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, target)); err != nil {
				t.Errorf("%s links to a missing page %s", filepath.Base(f), target)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, l.Compare(runs[2].ID, runs[3].ID))); err != nil {
		t.Error(err)
	}
}

// Package dashboard serves the results store as web pages: per machine
// and model the speed of every phase across commits (charts with the
// targets drawn), per run its full report, any two runs compared with
// the same statistics as `asdsl-bench compare`, and the gate failures.
// Pages are rendered on the server, charts are inline SVG and the CSS is
// in the page: nothing is fetched from elsewhere, so the pages work
// offline, and Static writes the same pages as files (a CI artifact, a
// code host's pages site).
package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"asdsl-bench/harness/report"
	"asdsl-bench/harness/results"
	"asdsl-bench/harness/store"
)

// Alpha is the significance at which compare pages call a change real.
const Alpha = 0.05

// links makes the pages' URLs: query URLs when served, file names when
// written as a static site.
type links interface {
	Index() string
	Machine(id, model string) string
	Run(id string) string
	Compare(a, b string) string
	Failures() string
}

type served struct{}

func (served) Index() string { return "/" }
func (served) Machine(id, model string) string {
	return "/machine?id=" + url.QueryEscape(id) + "&model=" + url.QueryEscape(model)
}
func (served) Run(id string) string { return "/run?id=" + url.QueryEscape(id) }
func (served) Compare(a, b string) string {
	return "/compare?a=" + url.QueryEscape(a) + "&b=" + url.QueryEscape(b)
}
func (served) Failures() string { return "/failures" }

type static struct{}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileName(parts ...string) string {
	return unsafeChars.ReplaceAllString(strings.Join(parts, "-"), "_") + ".html"
}

func (static) Index() string                   { return "index.html" }
func (static) Machine(id, model string) string { return fileName("machine", id, model) }
func (static) Run(id string) string            { return fileName("run", id) }
func (static) Compare(a, b string) string      { return fileName("compare", a, b) }
func (static) Failures() string                { return "failures.html" }

// Handler serves the dashboard over s.
func Handler(s *store.Store) http.Handler {
	d := &site{s: s, l: served{}}
	mux := http.NewServeMux()
	page := func(f func(ctx context.Context, q url.Values) (string, any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			name, data, err := f(r.Context(), r.URL.Query())
			if err != nil {
				code := http.StatusInternalServerError
				if strings.Contains(err.Error(), store.ErrNotFound.Error()) || strings.HasPrefix(err.Error(), "no ") {
					code = http.StatusNotFound
				}
				http.Error(w, err.Error(), code)
				return
			}
			var buf bytes.Buffer
			if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(buf.Bytes())
		}
	}
	mux.HandleFunc("GET /{$}", page(func(ctx context.Context, _ url.Values) (string, any, error) { return d.index(ctx) }))
	mux.HandleFunc("GET /machine", page(func(ctx context.Context, q url.Values) (string, any, error) {
		return d.machine(ctx, q.Get("id"), q.Get("model"))
	}))
	mux.HandleFunc("GET /run", page(func(ctx context.Context, q url.Values) (string, any, error) { return d.run(ctx, q.Get("id")) }))
	mux.HandleFunc("GET /compare", page(func(ctx context.Context, q url.Values) (string, any, error) {
		return d.compare(ctx, q.Get("a"), q.Get("b"))
	}))
	mux.HandleFunc("GET /failures", page(func(ctx context.Context, _ url.Values) (string, any, error) { return d.failures(ctx) }))
	return mux
}

// Static writes every page into dir: the index, each machine and model,
// each run, each run compared with the one before it on its machine, and
// the failures. It returns how many pages it wrote.
func Static(ctx context.Context, s *store.Store, dir string) (int, error) {
	d := &site{s: s, l: static{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	n := 0
	write := func(file, name string, data any, err error) error {
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
			return err
		}
		n++
		return os.WriteFile(filepath.Join(dir, file), buf.Bytes(), 0o644)
	}
	name, data, err := d.index(ctx)
	if err := write(d.l.Index(), name, data, err); err != nil {
		return n, err
	}
	name, data, err = d.failures(ctx)
	if err := write(d.l.Failures(), name, data, err); err != nil {
		return n, err
	}
	ms, err := s.Machines(ctx)
	if err != nil {
		return n, err
	}
	for _, m := range ms {
		for _, model := range m.Models {
			name, data, err := d.machine(ctx, m.ID, model)
			if err := write(d.l.Machine(m.ID, model), name, data, err); err != nil {
				return n, err
			}
		}
		runs, err := s.Runs(ctx, m.ID)
		if err != nil {
			return n, err
		}
		for i, r := range runs {
			name, data, err := d.run(ctx, r.ID)
			if err := write(d.l.Run(r.ID), name, data, err); err != nil {
				return n, err
			}
			if i+1 < len(runs) { // runs are newest first: compare with the one before
				name, data, err := d.compare(ctx, runs[i+1].ID, r.ID)
				if err := write(d.l.Compare(runs[i+1].ID, r.ID), name, data, err); err != nil {
					return n, err
				}
			}
		}
	}
	return n, nil
}

type site struct {
	s *store.Store
	l links
}

type runRow struct {
	store.RunInfo
	Link, CompareLink string
}

func (d *site) index(ctx context.Context) (string, any, error) {
	ms, err := d.s.Machines(ctx)
	if err != nil {
		return "", nil, err
	}
	runs, err := d.s.Runs(ctx, "")
	if err != nil {
		return "", nil, err
	}
	fails, err := d.s.Failures(ctx)
	if err != nil {
		return "", nil, err
	}
	type mrow struct {
		store.Machine
		Links map[string]string
	}
	var mrows []mrow
	for _, m := range ms {
		r := mrow{Machine: m, Links: map[string]string{}}
		for _, model := range m.Models {
			r.Links[model] = d.l.Machine(m.ID, model)
		}
		mrows = append(mrows, r)
	}
	prev := map[string]string{} // machine -> the next older run seen
	rows := make([]runRow, len(runs))
	for i := len(runs) - 1; i >= 0; i-- { // oldest first, to know each run's predecessor
		r := runs[i]
		rows[i] = runRow{RunInfo: r, Link: d.l.Run(r.ID)}
		if p, ok := prev[r.Machine]; ok {
			rows[i].CompareLink = d.l.Compare(p, r.ID)
		}
		prev[r.Machine] = r.ID
	}
	return "index", map[string]any{"Title": "asdsl-bench results", "L": d.l, "Machines": mrows, "Runs": rows, "Failures": len(fails), "Store": d.s.String()}, nil
}

type chartGroup struct {
	Title  string
	Charts []template.HTML
}

func (d *site) machine(ctx context.Context, id, model string) (string, any, error) {
	if id == "" || model == "" {
		return "", nil, fmt.Errorf("no machine or model given (machine?id=...&model=...)")
	}
	pts, err := d.s.Series(ctx, id, model)
	if err != nil {
		return "", nil, err
	}
	if len(pts) == 0 {
		return "", nil, fmt.Errorf("no benches of model %q on machine %q", model, id)
	}
	targets, err := d.s.Targets(ctx, id)
	if err != nil {
		return "", nil, err
	}
	// Runs along x, in time order; one group of charts per workload and
	// thread count; one line per phase.
	var runIDs []string
	idx := map[string]int{}
	labels := []string{}
	for _, p := range pts {
		if _, ok := idx[p.RunID]; !ok {
			idx[p.RunID] = len(runIDs)
			runIDs = append(runIDs, p.RunID)
			labels = append(labels, report.ShortCommit(p.Commit)+" "+p.Time.Format("01-02 15:04"))
		}
	}
	type key struct {
		workload string
		threads  int
	}
	groups := map[key]map[string][3][]float64{} // phase -> decode, prefill, ttft per run
	var keys []key
	for _, p := range pts {
		k := key{p.Workload, p.Threads}
		if groups[k] == nil {
			groups[k] = map[string][3][]float64{}
			keys = append(keys, k)
		}
		v, ok := groups[k][p.Phase]
		if !ok {
			for m := range v {
				v[m] = nanSlice(len(runIDs))
			}
		}
		i := idx[p.RunID]
		v[0][i], v[1][i], v[2][i] = val(p.DecodeTPS.Float64, p.DecodeTPS.Valid), val(p.PrefillTPS.Float64, p.PrefillTPS.Valid), val(p.TTFTms.Float64, p.TTFTms.Valid)
		groups[k][p.Phase] = v
	}
	metrics := []struct{ title, unit, gate string }{{"decode", "tok/s", "decode tok/s"}, {"prefill", "tok/s", "prefill tok/s"}, {"TTFT", "ms", "TTFT ms"}}
	var out []chartGroup
	for _, k := range keys {
		g := chartGroup{Title: fmt.Sprintf("%s, workload %s, %d threads", model, k.workload, k.threads)}
		bench := fmt.Sprintf("%s/%s t=%d", model, k.workload, k.threads)
		for m, mt := range metrics {
			var ss []series
			for _, ph := range sortedKeys(groups[k]) {
				ss = append(ss, series{Name: ph, Values: groups[k][ph][m][:]})
			}
			var ts []target
			seen := map[string]bool{}
			for _, ph := range sortedKeys(targets) {
				for _, gname := range sortedKeys(targets[ph]) {
					t := targets[ph][gname]
					if !strings.HasSuffix(gname, bench+" "+mt.gate) {
						continue
					}
					label := strings.TrimSuffix(gname, bench+" "+mt.gate)
					label = strings.TrimSpace(strings.TrimSuffix(label, ": ")) + " target"
					label = strings.TrimPrefix(label, " ")
					if label == "target" {
						label = "suite target"
					}
					if s := fmt.Sprintf("%s %g", label, t.Value); !seen[s] {
						seen[s] = true
						ts = append(ts, target{Name: label + " (" + t.Op + ")", Value: t.Value})
					}
				}
			}
			g.Charts = append(g.Charts, lineChart(fmt.Sprintf("%s %s", mt.title, mt.unit), mt.unit, labels, ss, ts))
		}
		out = append(out, g)
	}
	var runs []runRow
	for i, id := range runIDs {
		r := runRow{RunInfo: store.RunInfo{ID: id}, Link: d.l.Run(id)}
		if i > 0 {
			r.CompareLink = d.l.Compare(runIDs[i-1], id)
		}
		runs = append(runs, r)
	}
	return "machine", map[string]any{"Title": model + " on " + id, "L": d.l, "Groups": out, "Runs": runs, "Labels": labels}, nil
}

func (d *site) run(ctx context.Context, id string) (string, any, error) {
	r, err := d.s.Run(ctx, id)
	if err != nil {
		return "", nil, err
	}
	var md bytes.Buffer
	report.Markdown(&md, r, "")
	var html bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.GFM)).Convert(md.Bytes(), &html); err != nil {
		return "", nil, err
	}
	return "run", map[string]any{"Title": "run " + r.ID, "L": d.l, "Run": r, "Chart": template.HTML(report.Chart(r)), "Report": template.HTML(html.String())}, nil
}

type deltaRow struct {
	results.Delta
	Change string
}

func (d *site) compare(ctx context.Context, a, b string) (string, any, error) {
	if a == "" || b == "" {
		return "", nil, fmt.Errorf("no runs given (compare?a=OLD&b=NEW)")
	}
	ra, err := d.s.Run(ctx, a)
	if err != nil {
		return "", nil, err
	}
	rb, err := d.s.Run(ctx, b)
	if err != nil {
		return "", nil, err
	}
	var rows []deltaRow
	for _, dl := range results.Compare(ra, rb, Alpha) {
		ch := "~"
		if dl.Ratio != 0 && !math.IsNaN(dl.Ratio) {
			ch = fmt.Sprintf("%+.1f%%", 100*(dl.Ratio-1))
		}
		rows = append(rows, deltaRow{Delta: dl, Change: ch})
	}
	return "compare", map[string]any{"Title": "compare", "L": d.l, "A": ra, "B": rb, "Rows": rows, "Alpha": Alpha}, nil
}

func (d *site) failures(ctx context.Context) (string, any, error) {
	fs, err := d.s.Failures(ctx)
	if err != nil {
		return "", nil, err
	}
	return "failures", map[string]any{"Title": "gate failures", "L": d.l, "Failures": fs}, nil
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

func val(v float64, ok bool) float64 {
	if !ok {
		return math.NaN()
	}
	return v
}

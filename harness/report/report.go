// Package report writes a markdown report per commit (tables, per-phase
// gains against phase 0 and the previous phase, bandwidth roofline,
// counters, per-core usage, an SVG chart) and an index of the history.
package report

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"asdsl-bench/harness/results"
)

// Write renders the run's report into dir as <commit>.md (+ chart SVG)
// and returns the report's path. With history (stored runs, any order),
// the report also shows decode across the runs up to this one (History).
func Write(r *results.Run, dir string, history ...*results.Run) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := ShortCommit(r.Commit)
	if r.Commit == "" || r.Commit == "unknown" {
		name = "run-" + r.ID // no commit to name it by: one report per run
	} else if r.Dirty {
		name += "-dirty"
	}
	svg := name + "-speed.svg"
	if err := os.WriteFile(filepath.Join(dir, svg), []byte(Chart(r)), 0o644); err != nil {
		return "", err
	}
	charts := []string{svg}
	var upTo []*results.Run
	for _, h := range history {
		if !h.Time.After(r.Time) {
			upTo = append(upTo, h)
		}
	}
	sort.SliceStable(upTo, func(i, j int) bool { return upTo[i].Time.Before(upTo[j].Time) })
	if hist := History(upTo); hist != "" {
		if err := os.WriteFile(filepath.Join(dir, name+"-history.svg"), []byte(hist), 0o644); err != nil {
			return "", err
		}
		charts = append(charts, name+"-history.svg")
	}
	var b strings.Builder
	Markdown(&b, r, charts...)
	path := filepath.Join(dir, name+".md")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// ShortCommit is a commit's first 12 characters, as reports name it.
func ShortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func table(w io.Writer, header []any, rows [][]any) {
	tb := tablewriter.NewTable(w, tablewriter.WithRenderer(renderer.NewMarkdown()), tablewriter.WithHeaderAutoFormat(tw.Off))
	tb.Header(header...)
	for _, r := range rows {
		tb.Append(r...)
	}
	tb.Render()
	fmt.Fprintln(w)
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// Markdown writes the report body. charts are the SVG files to show, as
// Write names them: this run's per-phase chart, then (optionally) the
// history; "" or none: no charts.
func Markdown(w io.Writer, r *results.Run, charts ...string) {
	chart, history := "", ""
	if len(charts) > 0 {
		chart = charts[0]
	}
	if len(charts) > 1 {
		history = charts[1]
	}
	dirty := ""
	if r.Dirty {
		dirty = " (uncommitted changes)"
	}
	fmt.Fprintf(w, "# asdsl-bench report: %s%s\n\n", ShortCommit(r.Commit), dirty)
	overall := verdict(r.Passed)
	if r.Verdict != "" {
		overall = "gate " + r.Verdict
	}
	fmt.Fprintf(w, "Run `%s`, %s, suite **%s**, machine profile **%s** (%s). Overall: **%s**.\n\n",
		r.ID, r.Time.Format("2006-01-02 15:04 UTC"), r.Suite, r.Profile, r.ProfileWhy, overall)
	writeAB(w, r)

	fmt.Fprintf(w, "## Machine\n\n")
	var bwRows [][]any
	for _, t := range slices.Sorted(maps.Keys(r.Machine.ReadGBs)) {
		pk := "-"
		if v := r.Machine.Int8GMACs[t]; v > 0 {
			pk = fmt.Sprintf("%.0f (%s)", v, r.Machine.Int8Instr)
		}
		bwRows = append(bwRows, []any{t, fmt.Sprintf("%.1f", r.Machine.ReadGBs[t]), pk})
	}
	fmt.Fprintf(w, "- CPU: %s; kernels: %s; features: %s\n- Topology: %s\n\n", r.Machine.CPU, r.Machine.ISA, strings.Join(r.Machine.Features, " "), r.Machine.Topology)
	table(w, []any{"threads", "measured read bandwidth GB/s (best of the run)", "int8 multiply-accumulate peak GMAC/s"}, bwRows)
	if remeasured(r) {
		fmt.Fprintf(w, "- Read bandwidth is measured at the start and again after each phase's decode benches; each phase's fractions are of the best figure seen by then.\n")
	}
	for _, t := range slices.Sorted(maps.Keys(r.Machine.ReadNotes)) {
		fmt.Fprintf(w, "- Read bandwidth at %d thread(s) is suspect: %s.\n", t, r.Machine.ReadNotes[t])
	}
	for _, why := range counterGaps(r) {
		fmt.Fprintf(w, "- %s\n", why)
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "## Phases\n\n")
	if chart != "" {
		fmt.Fprintf(w, "![decode and prefill speed per phase](%s)\n\n", chart)
	}
	if history != "" {
		fmt.Fprintf(w, "![decode per phase across the stored runs up to this one](%s)\n\n", history)
	}
	decLadder, ttftLadder := newLadder(true), newLadder(false)
	var rows [][]any
	for _, p := range r.Phases {
		if !p.Implemented {
			rows = append(rows, []any{p.Name, p.Title, "not implemented", "-", "-", "-", "-", "-", "-", "-"})
			continue
		}
		checks := 0
		for _, c := range p.Checks {
			if c.Passed {
				checks++
			}
		}
		for _, b := range p.Benches {
			key := fmt.Sprintf("%s/%s t=%d", b.Model, b.Workload, b.Threads)
			ms := b.Metrics()
			dec := results.Median(ms[results.DecodeTPS.Key])
			decVs := decLadder.step(key, dec)
			ttftVs := ttftLadder.step(key, results.Median(ms[results.TTFT.Key]))
			frac := results.Median(ms[results.DecodeGBs.Key]) / p.Yardstick(r.Machine, b.Threads)
			rows = append(rows, []any{p.Name, key, verdict(p.Passed), fmt.Sprintf("%d/%d", checks, len(p.Checks)),
				fmt.Sprintf("%.1f", results.Median(ms[results.TTFT.Key])), fmt.Sprintf("%.1f", results.Median(ms[results.PrefillTPS.Key])),
				fmt.Sprintf("%.2f", dec), decVs, ttftVs, fmt.Sprintf("%.0f%%", 100*frac)})
		}
		for _, sb := range p.Spec {
			// Speculation's effective decode at each controlled alpha, as
			// a rung of the ladder against the same model's plain decode.
			key := fmt.Sprintf("%s/%s t=%d", sb.Model, sb.Workload, sb.Threads)
			for _, r := range sb.Result.Results {
				dec := results.Median(r.TPS)
				vs := decLadder.compare(key, dec)
				drafter := "draft model"
				if sb.Lookup {
					drafter = "prompt lookup"
				}
				rows = append(rows, []any{p.Name, fmt.Sprintf("%s, speculative by %s (controlled alpha %.2f, k %d)", key, drafter, r.Alpha, r.K), verdict(p.Passed),
					fmt.Sprintf("%d/%d", checks, len(p.Checks)), "-", "-", fmt.Sprintf("%.2f", dec), vs, "-", "-"})
			}
		}
		if len(p.Benches) == 0 {
			rows = append(rows, []any{p.Name, "(no benchmarks)", verdict(p.Passed), fmt.Sprintf("%d/%d", checks, len(p.Checks)), "-", "-", "-", "-", "-", "-"})
		}
	}
	table(w, []any{"phase", "bench", "verdict", "checks", "TTFT ms", "prefill t/s", "decode t/s", "decode speed-up vs first phase measured / previous", "TTFT speed-up vs first / previous", "decode % of read BW"}, rows)

	for _, p := range r.Phases {
		fmt.Fprintf(w, "### %s: %s\n\n", p.Name, p.Title)
		if !p.Implemented {
			fmt.Fprintf(w, "Not implemented: %s. A phase that has not landed never passes.\n\n", p.Missing)
			continue
		}
		fmt.Fprintf(w, "Engine: %s.\n\n", p.Features)
		if p.Name == "phase4" {
			writeMigrations(w, r, p)
		}
		if p.Name == "phase4" && !r.Machine.Hybrid {
			fmt.Fprintf(w, "This host is not hybrid (%s): pinning here only keeps the math threads from migrating and sharing a core. The gain the roadmap expects on a hybrid CPU, no op waiting for a thread on an E-core, cannot show; the check above shows which CPUs recorded hybrid topologies would use.\n\n", r.Machine.Topology)
		}
		if len(p.Checks) > 0 {
			var cr [][]any
			for _, c := range p.Checks {
				cr = append(cr, []any{c.Name, verdict(c.Passed), c.Detail})
			}
			table(w, []any{"check", "result", "detail"}, cr)
		}
		if len(p.Gates) > 0 {
			var gr [][]any
			for _, g := range p.Gates {
				v := verdict(g.Passed)
				if g.Inconclusive {
					v = "INCONCLUSIVE: " + g.Why
				} else if g.Why != "" {
					v += " (" + g.Why + ")"
				}
				gr = append(gr, []any{g.Name, fmt.Sprintf("%.4g %s %.4g", g.Value, g.Op, g.Target), v})
			}
			table(w, []any{"gate", "value vs target", "result"}, gr)
		}
		// The phase's claim stays on screen; each bench's particulars
		// (per-core usage, threads, counters) fold away.
		if len(p.Benches) > 0 {
			fmt.Fprintf(w, "<details><summary>%d bench(es): per-core usage, math threads, counters</summary>\n\n", len(p.Benches))
			for _, b := range p.Benches {
				writeBench(w, b)
			}
			fmt.Fprintf(w, "</details>\n\n")
		}
		for _, sb := range p.Spec {
			writeSpec(w, sb)
		}
		for _, cb := range p.ColdStart {
			writeColdStart(w, cb)
		}
		for _, fb := range p.Formats {
			writeFormats(w, fb)
		}
		for _, pb := range p.Perplexity {
			q8 := "Q8_0 cache: " + pb.Q8Note
			if pb.Q8 != nil {
				q8 = fmt.Sprintf("with the Q8_0 cache and flash attention %.4f ± %.4f (%+.2f%%)", pb.Q8.PPL, pb.Q8.PPLErr, 100*(pb.Q8.PPL/pb.F32.PPL-1))
			}
			fmt.Fprintf(w, "**Perplexity, %s** on `%s` (llama-perplexity's method, chunks of %d, %d tokens scored): with the f32 cache %.4f ± %.4f; %s.\n\n",
				pb.Model, pb.File, pb.Ctx, pb.F32.Scored, pb.F32.PPL, pb.F32.PPLErr, q8)
		}
		for _, kb := range p.CacheKL {
			r := kb.Result
			fmt.Fprintf(w, "**Cache accuracy at depth, %s**: the Q8_0 cache with flash attention against the f32 cache with plain attention, same tokens, over %d positions after %d: mean KL %.3g, top-1 agreement %.1f%%.\n\n",
				kb.Model, r.Tail, r.Depth, r.KL, 100*r.Top1)
		}
	}
	if len(r.Deltas) > 0 {
		fmt.Fprintf(w, "## Against the stored run %s\n\n", r.Baseline)
		if r.Verdict != "" {
			fmt.Fprintf(w, "Informational: a run stored at another time saw another host state, so it never fails the gate.\n\n")
		}
		var sb strings.Builder
		results.WriteComparison(&sb, r.Deltas)
		fmt.Fprintf(w, "%s\n", sb.String())
	}
}

func writeBench(w io.Writer, b *results.Bench) {
	if b.Result == nil {
		return
	}
	depth := ""
	if b.Depth > 0 {
		depth = fmt.Sprintf(" after %d tokens of context", b.Depth)
	}
	fmt.Fprintf(w, "**%s / %s, %d thread(s)** (prompt %d, generate %d%s, %d repetitions; peak RSS %.0f MiB; KV cache %.1f KiB per token)\n\n",
		b.Model, b.Workload, b.Threads, b.Prompt, b.Generate, depth, len(b.Result.Samples), float64(b.Result.PeakRSS)/(1<<20), float64(b.Result.KVBytesPerToken)/1024)
	var cores []string
	for _, id := range slices.Sorted(maps.Keys(b.Result.CoreBusy)) {
		cores = append(cores, fmt.Sprintf("cpu%d %.0f%%", id, 100*b.Result.CoreBusy[id]))
	}
	var threads []string
	for tid, cpu := range b.Result.ThreadCPUs {
		pin := "unpinned"
		if p, ok := b.Result.Pinned[tid]; ok {
			pin = fmt.Sprintf("pinned to %d", p)
		}
		threads = append(threads, fmt.Sprintf("tid %d on cpu%d (%s, %.2f CPU-s)", tid, cpu, pin, b.Result.ThreadBusy[tid]))
	}
	sort.Strings(threads)
	fmt.Fprintf(w, "- per-core usage during the run (all processes): %s\n- of all CPUs' time: math threads %.0f%%, this process %.0f%%, other processes and steal %.0f%%\n- math threads: %s\n",
		strings.Join(cores, ", "), 100*b.Result.MathCPUShare, 100*b.Result.OwnCPUShare, 100*b.Result.OtherCPUShare, strings.Join(threads, "; "))
	c := b.Result.Counters
	// Why counters are missing is said once, in the Machine section.
	var cv []string
	for _, k := range slices.Sorted(maps.Keys(c.Values)) {
		cv = append(cv, fmt.Sprintf("%s %.4g", k, c.Values[k]))
	}
	if len(cv) > 0 {
		fmt.Fprintf(w, "- counters (summed over the math threads): %s\n", strings.Join(cv, ", "))
	}
	for _, a := range b.Anchor {
		fmt.Fprintf(w, "- anchor %s %s: %.2f t/s\n", a.Engine, a.Test, a.TPS)
	}
	if len(b.OverLoop) > 0 {
		r := make([]string, len(b.OverLoop))
		for i, v := range b.OverLoop {
			r[i] = fmt.Sprintf("%.2f", v)
		}
		fmt.Fprintf(w, "- TTFT over the prompt as a loop of GEMVs, the two measured side by side: %.2fx (rounds %s)\n", results.Median(b.OverLoop), strings.Join(r, ", "))
	}
	fmt.Fprintln(w)
}

// Index rewrites dir/README.md: every stored run, newest first.
func Index(runs []*results.Run, dir string) error {
	var b strings.Builder
	b.WriteString("# Reports\n\nOne report per commit, written by `asdsl-bench run` and `asdsl-bench gate`; `asdsl-bench report` rebuilds them and this index from `runs/`.\n\n")
	if svg := History(runs); svg != "" {
		if err := os.WriteFile(filepath.Join(dir, "history.svg"), []byte(svg), 0o644); err != nil {
			return err
		}
		b.WriteString("![decode tokens/s per phase across runs](history.svg)\n\n")
	}
	var rows [][]any
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		name := ShortCommit(r.Commit)
		if r.Dirty {
			name += "-dirty"
		}
		var dec []string
		for _, p := range r.Phases {
			for _, bn := range p.Benches {
				if v := bn.Median(results.DecodeTPS); !math.IsNaN(v) {
					dec = append(dec, fmt.Sprintf("%s %s %.1f", p.Name, bn.Model, v))
				}
			}
		}
		if len(dec) > 4 {
			dec = dec[len(dec)-4:]
		}
		rows = append(rows, []any{r.Time.Format("2006-01-02 15:04"), fmt.Sprintf("[%s](%s.md)", name, name), r.Suite, verdict(r.Passed), strings.Join(dec, "; ")})
	}
	table(&b, []any{"time (UTC)", "commit", "suite", "verdict", "decode t/s (last phases)"}, rows)
	return os.WriteFile(filepath.Join(dir, "README.md"), []byte(b.String()), 0o644)
}

// writeAB is the gate's comparison with a baseline build: per case and
// metric the medians, the change, p, the slowdown the noise would have
// let the test see, how many samples were disturbed, and the verdict.
func writeAB(w io.Writer, r *results.Run) {
	if r.AB == nil {
		if r.BaselineNote != "" {
			fmt.Fprintf(w, "No A/B against a baseline build: %s.\n\n", r.BaselineNote)
		}
		return
	}
	ab := r.AB
	fmt.Fprintf(w, "## Against a baseline build: %s\n\n", ab.Verdict)
	fmt.Fprintf(w, "%s against %s, %d samples each, alternated ABBA, a fresh process per sample. A regression is a slowdown of at least %.0f%% within the rounds' pairs (median ratio) with Wilcoxon signed-rank p < %g; a sample is disturbed when other processes held more than %.0f%% of the CPUs during it, or its math threads waited that share of its time for a CPU.\n\n",
		ab.Candidate, ab.Baseline, ab.Reps, 100*ab.Rules.MaxSlowdown, ab.Rules.Alpha, 100*ab.Rules.MaxDisturbance)
	var rows [][]any
	for _, c := range ab.Cases {
		for _, j := range c.Judgements {
			det := "none"
			if !math.IsInf(j.Detectable, 1) {
				det = fmt.Sprintf("%.0f%%", 100*j.Detectable)
			}
			rows = append(rows, []any{c.Case.Label, j.Metric, fmt.Sprintf("%.4g", j.BaseMedian), fmt.Sprintf("%.4g", j.CandMedian),
				fmt.Sprintf("%+.1f%%", 100*(j.CandMedian/j.BaseMedian-1)), fmt.Sprintf("%.3g", j.P), det,
				fmt.Sprintf("%d/%d", j.Disturbed, len(j.Base)+len(j.Cand)), j.Verdict.String() + ": " + j.Why})
		}
	}
	table(w, []any{"case", "metric", "baseline", "candidate", "change", "p", "detectable slowdown", "disturbed", "verdict"}, rows)
}

// writeSpec is phase 7's speculative decoding: per controlled alpha the
// effective and plain decode speed, the speed-up measured and the one
// Leviathan et al.'s formula predicts from the measured costs, and
// what the target did with the proposals.
func writeSpec(w io.Writer, b *results.SpecBench) {
	fmt.Fprintf(w, "**Speculative decoding, %s with draft %s, %d thread(s)** (prompt %d, generate %d): controlled acceptance with measured costs. The draft really runs each step; whether its proposal matches the target's greedy continuation is a seeded Bernoulli(alpha); the target really verifies each batch. Verify-batch cost, T = 1..%d tokens in one call, relative to one: %s.\n\n",
		b.Model, b.Draft, b.Threads, b.Prompt, b.Generate, len(b.Result.Curve), curveString(b.Result.Curve))
	if c := b.Result.Chosen; c != nil {
		var ex []string
		for _, e := range c.Expected {
			ex = append(ex, fmt.Sprintf("%.2fx", e))
		}
		costs := fmt.Sprintf("a round's first draft step measured at %.3f of a target step and each later one at %.3f", c.DraftFirst, c.DraftNext)
		if b.Lookup {
			costs = "the verify curve alone (no draft model)"
		}
		fmt.Fprintf(w, "The draft length k = %d was chosen from these costs: %s; Leviathan's formula at alpha %.2f gives %s for k = 1..%d.\n\n",
			c.K, costs, c.Alpha, strings.Join(ex, ", "), len(c.Expected))
	}
	var rows [][]any
	for _, r := range b.Result.Results {
		rows = append(rows, []any{fmt.Sprintf("%.2f", r.Alpha), r.K, fmt.Sprintf("%.2f", results.Median(r.PlainTPS)), fmt.Sprintf("%.2f", results.Median(r.TPS)),
			fmt.Sprintf("%.2fx", r.Speedup()), fmt.Sprintf("%.2fx", r.Expected), fmt.Sprintf("%.0f%% (%.2f per judged)", 100*r.AcceptRate, r.AlphaSeen),
			fmt.Sprintf("%.2f", r.TokensPerPass), fmt.Sprintf("%.3f", r.DraftCost), fmt.Sprintf("%.2f", r.VerifyCost)})
	}
	table(w, []any{"alpha", "k", "plain t/s", "speculative t/s", "speed-up", "Leviathan's formula", "proposals kept", "tokens per target pass", "draft step / target step", "verify (k+1 tokens) / target step"}, rows)
}

func curveString(c []float64) string {
	var parts []string
	for _, v := range c {
		parts = append(parts, fmt.Sprintf("%.2f", v))
	}
	return strings.Join(parts, ", ")
}

// ladder follows one figure of each bench key from phase to phase: the
// first phase that measured it and the one before, so the report says
// what each checkpoint bought ("1.49x / 1.02x").
type ladder struct {
	higherIsBetter bool
	first, prev    map[string]float64
}

func newLadder(higherIsBetter bool) *ladder {
	return &ladder{higherIsBetter: higherIsBetter, first: map[string]float64{}, prev: map[string]float64{}}
}

// compare gives the speed-up of v against the first and the previous
// phase, without recording v.
func (l *ladder) compare(key string, v float64) string {
	ratio := func(old float64) string {
		if old <= 0 || v <= 0 {
			return "-"
		}
		if l.higherIsBetter {
			return fmt.Sprintf("%.2fx", v/old)
		}
		return fmt.Sprintf("%.2fx", old/v)
	}
	return ratio(l.first[key]) + " / " + ratio(l.prev[key])
}

// step compares v and records it as this phase's figure.
func (l *ladder) step(key string, v float64) string {
	out := l.compare(key, v)
	if _, ok := l.first[key]; !ok {
		l.first[key] = v
	}
	l.prev[key] = v
	return out
}

// writeColdStart is phase 6's cold start: per configuration the median
// time from opening the model to the first token of the prompt, with the
// file evicted from the page cache before each start.
func writeColdStart(w io.Writer, cb *results.ColdBench) {
	if cb.Error != "" {
		fmt.Fprintf(w, "**Cold start, %s**: not measured: %s.\n\n", cb.Model, cb.Error)
		return
	}
	fmt.Fprintf(w, "**Cold start, %s** (%d-token prompt; a fresh process each, the file evicted from the page cache before it, configurations alternated):\n\n", cb.Model, cb.Prompt)
	type key struct{ prefetch, repack bool }
	ttft, load, after := map[key][]float64{}, map[key][]float64{}, map[key]float64{}
	for _, s := range cb.Samples {
		k := key{s.Prefetch, s.Repack}
		ttft[k] = append(ttft[k], s.TTFTMs)
		load[k] = append(load[k], s.LoadMs)
		after[k] = max(after[k], s.ResidentAfterEvict)
	}
	var rows [][]any
	for _, k := range []key{{true, true}, {false, true}, {true, false}, {false, false}} {
		if len(ttft[k]) == 0 {
			continue
		}
		layout := "repacked at load"
		if !k.repack {
			layout = "GGUF layout"
		}
		rows = append(rows, []any{layout, map[bool]string{true: "on", false: "off"}[k.prefetch], len(ttft[k]),
			fmt.Sprintf("%.0f", results.Median(load[k])), fmt.Sprintf("%.0f", results.Median(ttft[k])), fmt.Sprintf("%.0f%%", 100*after[k])})
	}
	table(w, []any{"layout", "prefetch thread", "starts", "open + session ms", "time to first token ms", "file still cached after eviction (max)"}, rows)
}

// counterGaps are the distinct reasons counters were missing in any
// bench of the run: the same sentence for every bench said once.
func counterGaps(r *results.Run) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range r.Phases {
		for _, b := range p.Benches {
			if b.Result == nil {
				continue
			}
			for _, why := range []string{b.Result.Counters.HardwareUnavailable, b.Result.Counters.SoftwareUnavailable} {
				if why == "" {
					continue
				}
				kind := "hardware"
				if why == b.Result.Counters.SoftwareUnavailable {
					kind = "software"
				}
				msg := kind + " counters unavailable: " + why
				if !seen[msg] {
					seen[msg] = true
					out = append(out, msg)
				}
			}
		}
	}
	return out
}

// writeFormats is phase 1's claim: what Q4_K_M buys against F16 and Q8_0
// on the same weights.
func writeFormats(w io.Writer, fb *results.FormatBench) {
	fmt.Fprintf(w, "**What the format buys, %s** (the same mock weights in each format; best kernels, the whole engine; KL of the next-token distributions to F16's over a 32-token prompt):\n\n", fb.Model)
	var f16 results.FormatRow
	for _, r := range fb.Rows {
		if r.Format == "F16" {
			f16 = r
		}
	}
	var rows [][]any
	for _, r := range fb.Rows {
		kl, rel := "-", "-"
		if r.Format != "F16" {
			kl = fmt.Sprintf("%.3g (top-1 %.0f%%)", r.KLToF16, 100*r.Top1ToF16)
		}
		if f16.DecodeTPS > 0 {
			rel = fmt.Sprintf("%.2fx", r.DecodeTPS/f16.DecodeTPS)
		}
		rows = append(rows, []any{r.Format, fmt.Sprintf("%.1f", float64(r.BytesPerToken)/1e6), fmt.Sprintf("%.1f", r.DecodeTPS), rel, kl})
	}
	table(w, []any{"format", "MB read per token", "decode t/s", "vs F16", "KL to F16"}, rows)
}

// writeMigrations puts phase 4's claim in numbers: the math threads'
// CPU migrations and their share of the machine, unpinned (phase 3)
// against pinned (phase 4), bench by bench.
func writeMigrations(w io.Writer, r *results.Run, p4 *results.Phase) {
	var p3 *results.Phase
	for _, p := range r.Phases {
		if p.Name == "phase3" {
			p3 = p
		}
	}
	if p3 == nil {
		return
	}
	var rows [][]any
	for _, b := range p4.Benches {
		for _, a := range p3.Benches {
			if a.Model != b.Model || a.Workload != b.Workload || a.Threads != b.Threads || a.Result == nil || b.Result == nil {
				continue
			}
			mig := func(x *results.Bench) string {
				if v, ok := x.Result.Counters.Values["cpu-migrations"]; ok {
					return fmt.Sprintf("%.0f", v)
				}
				return "n/a"
			}
			rows = append(rows, []any{fmt.Sprintf("%s/%s t=%d", b.Model, b.Workload, b.Threads), mig(a), mig(b),
				fmt.Sprintf("%.0f%% / %.0f%%", 100*a.Result.MathCPUShare, 100*a.Result.OtherCPUShare),
				fmt.Sprintf("%.0f%% / %.0f%%", 100*b.Result.MathCPUShare, 100*b.Result.OtherCPUShare)})
		}
	}
	if len(rows) > 0 {
		table(w, []any{"bench", "math-thread migrations, unpinned (phase 3)", "pinned (phase 4)", "CPU share math / others, phase 3", "phase 4"}, rows)
	}
}

// remeasured says whether the run measured the read bandwidth again
// after its phases' benches (records before that have one figure).
func remeasured(r *results.Run) bool {
	for _, p := range r.Phases {
		if p.ReadGBs != nil {
			return true
		}
	}
	return false
}

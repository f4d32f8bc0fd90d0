package report

import (
	"fmt"
	"math"
	"strings"

	"asdsl-bench/harness/results"
)

// Chart draws decode (and prefill) tokens/s per phase as grouped bars,
// one group per phase, one bar per bench, as a self-contained SVG.
func Chart(r *results.Run) string {
	type bar struct {
		label      string
		dec, pre   float64
		decT, preT float64 // the gates' targets on them (0: none)
	}
	type group struct {
		phase string
		bars  []bar
	}
	var groups []group
	maxV := 0.0
	for _, p := range r.Phases {
		g := group{phase: p.Name}
		for _, b := range p.Benches {
			ms := b.Metrics()
			d, pr := results.Median(ms[results.DecodeTPS.Key]), results.Median(ms[results.PrefillTPS.Key])
			if math.IsNaN(d) {
				d = 0
			}
			if math.IsNaN(pr) {
				pr = 0
			}
			id := fmt.Sprintf("%s/%s t=%d", b.Model, b.Workload, b.Threads)
			br := bar{label: fmt.Sprintf("%s t=%d", b.Model, b.Threads), dec: d, pre: pr,
				decT: gateTarget(p.Gates, id+" decode tok/s"), preT: gateTarget(p.Gates, id+" prefill tok/s")}
			g.bars = append(g.bars, br)
			maxV = math.Max(maxV, math.Max(math.Max(d, pr), math.Max(br.decT, br.preT)))
		}
		groups = append(groups, g)
	}
	if maxV == 0 {
		maxV = 1
	}
	const W, H, left, bottom, top = 900, 380, 60, 70, 30
	plotH := float64(H - bottom - top)
	slot := float64(W-left-20) / float64(max(1, len(groups)))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="18" font-size="13">tokens/s per phase (log scale): decode (dark), prefill (light), targets (red dashes)</text>`+"\n", left)
	// Log scale so the naive phase 0 and the optimised phases both show.
	lo := math.Log10(0.1)
	hi := math.Log10(maxV * 1.2)
	y := func(v float64) float64 {
		if v <= 0.1 {
			return float64(H - bottom)
		}
		return float64(H-bottom) - (math.Log10(v)-lo)/(hi-lo)*plotH
	}
	for e := -1; float64(e) <= hi; e++ {
		v := math.Pow(10, float64(e))
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="5" y="%.1f">%g</text>`+"\n", left, W-20, y(v), y(v), y(v)+4, v)
	}
	for i, g := range groups {
		x0 := float64(left) + float64(i)*slot
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", x0+4, H-bottom+16, g.phase)
		n := max(1, len(g.bars))
		bw := (slot - 10) / float64(2*n)
		for j, br := range g.bars {
			x := x0 + 4 + float64(2*j)*bw
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1f5f9f"><title>%s decode %.2f t/s</title></rect>`+"\n", x, y(br.dec), bw, float64(H-bottom)-y(br.dec), br.label, br.dec)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#8fbfe9"><title>%s prefill %.2f t/s</title></rect>`+"\n", x+bw, y(br.pre), bw, float64(H-bottom)-y(br.pre), br.label, br.pre)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="9" fill="#555">%s</text>`+"\n", x, H-bottom+30+12*(j%2), br.label)
			// The values as labels, not only tooltips: a code-hosting page
			// shows an SVG as an image, where tooltips never appear.
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="8" fill="#1f5f9f">%s</text>`+"\n", x, y(br.dec)-2, Rate(br.dec))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="8" fill="#4f7fa9">%s</text>`+"\n", x+bw, y(br.pre)-2, Rate(br.pre))
			// Targets: a dashed red tick across the bar, its value beside it.
			for k, t := range []float64{br.decT, br.preT} {
				if t > 0 {
					tx := x + float64(k)*bw
					fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#c62828" stroke-width="1.5" stroke-dasharray="3 2"/><text x="%.1f" y="%.1f" font-size="8" fill="#c62828">&#8805;%s</text>`+"\n",
						tx-1, tx+bw+1, y(t), y(t), tx, y(t)+9, Rate(t))
				}
			}
		}
		if len(g.bars) == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#999">n/a</text>`+"\n", x0+4, H-bottom-6)
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// Rate prints a figure in three significant digits at most (the
// dashboard's labels too).
func Rate(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// gateTarget is the target of the gate on a bench and metric ("model/
// workload t=N decode tok/s"), the suite's or a profile's; 0 when none.
func gateTarget(gs []results.Gate, suffix string) float64 {
	t := 0.0
	for _, g := range gs {
		if g.Op == ">=" && (g.Name == suffix || strings.HasSuffix(g.Name, ": "+suffix)) {
			t = math.Max(t, g.Target)
		}
	}
	return t
}

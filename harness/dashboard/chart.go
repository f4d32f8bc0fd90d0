package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"

	"asdsl-bench/harness/report"
)

// series is one line of a history chart: a value per run (NaN: the run
// did not measure it).
type series struct {
	Name   string
	Values []float64
}

// target is a horizontal line: a gate's value.
type target struct {
	Name  string
	Value float64
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"}

// lineChart draws runs along x (labels: commits) and the series' values
// as lines with a point per measured run — each point a <circle
// class="pt"> whose title and data-value carry the figure, with its
// value written beside it — plus dashed target lines. Self-contained
// SVG: no script, no external file.
func lineChart(title, unit string, labels []string, ss []series, ts []target) template.HTML {
	const w, h, left, right, top, bottom = 820, 320, 60, 150, 30, 80
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	for _, t := range ts {
		lo, hi = math.Min(lo, t.Value), math.Max(hi, t.Value)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	hi *= 1.1
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	x := func(i int) float64 {
		if len(labels) <= 1 {
			return left + pw/2
		}
		return left + pw*float64(i)/float64(len(labels)-1)
	}
	y := func(v float64) float64 { return top + ph*(1-(v-lo)/(hi-lo)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, w, h, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`, left, template.HTMLEscapeString(title))
	// Axes and gridlines at four levels.
	for k := 0; k <= 4; k++ {
		v := lo + (hi-lo)*float64(k)/4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, left, w-right, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>`, left-4, y(v)+4, report.Rate(v))
	}
	fmt.Fprintf(&b, `<text x="12" y="%d" font-size="11" transform="rotate(-90 12 %d)">%s</text>`, top+int(ph/2), top+int(ph/2), template.HTMLEscapeString(unit))
	for i, l := range labels {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" transform="rotate(30 %.1f %d)">%s</text>`, x(i), h-bottom+12, x(i), h-bottom+12, template.HTMLEscapeString(l))
	}
	for i, t := range ts {
		fmt.Fprintf(&b, `<line class="target" x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#555" stroke-dasharray="6 4" data-value="%g"><title>%s: %s</title></line>`,
			left, w-right, y(t.Value), y(t.Value), t.Value, template.HTMLEscapeString(t.Name), report.Rate(t.Value))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="10" fill="#555" text-anchor="end">%s %s</text>`, w-right-4, y(t.Value)-4-float64(12*(i%2)), template.HTMLEscapeString(t.Name), report.Rate(t.Value))
	}
	for si, s := range ss {
		c := palette[si%len(palette)]
		var path []string
		for i, v := range s.Values {
			if !math.IsNaN(v) {
				path = append(path, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			}
		}
		if len(path) > 1 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, c, strings.Join(path, " "))
		}
		for i, v := range s.Values {
			if math.IsNaN(v) {
				continue
			}
			fmt.Fprintf(&b, `<circle class="pt" cx="%.1f" cy="%.1f" r="3.5" fill="%s" data-series="%s" data-value="%g"><title>%s, %s: %s</title></circle>`,
				x(i), y(v), c, template.HTMLEscapeString(s.Name), v, template.HTMLEscapeString(s.Name), template.HTMLEscapeString(labels[i]), report.Rate(v))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" text-anchor="middle" fill="%s">%s</text>`, x(i), y(v)-6, c, report.Rate(v))
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>`,
			w-right+12, top+14*si, c, w-right+26, top+9+14*si, template.HTMLEscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

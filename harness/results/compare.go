package results

import (
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"golang.org/x/perf/benchmath"
)

// Delta is one metric of one bench compared between two runs.
type Delta struct {
	Key         string  `json:"key"`
	Metric      string  `json:"metric"`
	Old         float64 `json:"old"` // median
	New         float64 `json:"new"`
	OldCI       string  `json:"old_ci"`
	NewCI       string  `json:"new_ci"`
	Ratio       float64 `json:"ratio"` // new / old
	P           float64 `json:"p"`
	Significant bool    `json:"significant"`
	// Worse is the relative change in the bad direction (a drop of a
	// speed, a rise of a latency); negative means better.
	Worse float64 `json:"worse"`
}

// Compare pairs the benches of two runs and tests each metric with the
// Mann-Whitney U test (no distributional assumption), at level alpha.
func Compare(old, new *Run, alpha float64) []Delta {
	th := benchmath.DefaultThresholds
	th.CompareAlpha = alpha
	oldBy := map[string]*Bench{}
	for _, p := range old.Phases {
		for _, b := range p.Benches {
			oldBy[b.Key(p.Name)] = b
		}
	}
	var out []Delta
	for _, p := range new.Phases {
		for _, nb := range p.Benches {
			key := nb.Key(p.Name)
			ob, ok := oldBy[key]
			if !ok {
				continue
			}
			om, nm := ob.Metrics(), nb.Metrics()
			names := make([]string, 0, len(nm))
			for k := range nm {
				if len(om[k]) > 0 && len(nm[k]) > 0 {
					names = append(names, k)
				}
			}
			sort.Strings(names)
			for _, k := range names {
				s1 := benchmath.NewSample(om[k], &th)
				s2 := benchmath.NewSample(nm[k], &th)
				a := benchmath.AssumeNothing
				sum1, sum2 := a.Summary(s1, 0.95), a.Summary(s2, 0.95)
				c := a.Compare(s1, s2)
				d := Delta{Key: key, Metric: k, Old: sum1.Center, New: sum2.Center,
					OldCI: sum1.PctRangeString(), NewCI: sum2.PctRangeString(), P: c.P, Significant: c.P < c.Alpha}
				if sum1.Center != 0 {
					d.Ratio = sum2.Center / sum1.Center
					if m, err := MetricByKey(k); err == nil {
						d.Worse = m.Worse(sum1.Center, sum2.Center)
					}
				}
				out = append(out, d)
			}
		}
	}
	return out
}

// Regressions are the deltas of gated metrics that are significant and
// worse than maxSlowdown. The 90th percentile of per-token latency is
// reported but not gated: its tail measures the scheduler (and whatever
// else shares the cores) more than the engine.
func Regressions(ds []Delta, maxSlowdown float64) []Delta {
	var out []Delta
	for _, d := range ds {
		if d.Metric == TokenP90.Key {
			continue
		}
		if d.Significant && d.Worse > maxSlowdown {
			out = append(out, d)
		}
	}
	return out
}

// WriteComparison prints a benchstat-style table.
func WriteComparison(w io.Writer, ds []Delta) error {
	tb := tablewriter.NewTable(w, tablewriter.WithRenderer(renderer.NewMarkdown()), tablewriter.WithHeaderAutoFormat(tw.Off))
	tb.Header("bench", "metric", "old", "new", "delta", "p")
	for _, d := range ds {
		delta := "~"
		if d.Significant {
			delta = fmt.Sprintf("%+.1f%%", 100*(d.Ratio-1))
		}
		tb.Append(d.Key, d.Metric, fmt.Sprintf("%.4g %s", d.Old, d.OldCI), fmt.Sprintf("%.4g %s", d.New, d.NewCI), delta, pString(d.P))
	}
	return tb.Render()
}

func pString(p float64) string {
	if math.IsNaN(p) {
		return "-"
	}
	return fmt.Sprintf("%.3f", p)
}

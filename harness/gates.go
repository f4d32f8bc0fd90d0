package harness

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"asdsl-bench/harness/profile"
	"asdsl-bench/harness/results"
	"asdsl-bench/harness/suite"
	"asdsl-bench/phases"
)

// figures are what gates judge of one bench: its medians and the ratios
// built from them (NaN where the bench or the machine lacks them).
type figures struct {
	b                        *results.Bench
	decode, gbs, ttft, pre   float64
	bwFraction, peakFraction float64
	// overLoop is the TTFT speed-up over the prompt as a loop of GEMVs:
	// the median of the rounds measured side by side (Bench.OverLoop),
	// overLo and overHi their range; in older records, phase 2's bench
	// over this one (overLo, overHi NaN).
	overLoop, overLo, overHi float64
	// bwDoubt says why bwFraction cannot be trusted ("": it can): the
	// yardstick was suspect, or decode streamed faster than it read.
	bwDoubt string
}

// target is one gate rule: a figure compared with a target value, in a
// stage the phase must gate ("decode" or "prefill"), where it applies.
type target struct {
	name    string
	stage   string
	op      string // ">=" or "<="
	target  float64
	value   func(f figures) float64
	applies func(f figures) bool // nil: always
	// doubt, when set, says why the figure itself is in doubt: a miss
	// is then inconclusive, and a pass carries the reason.
	doubt func(f figures) string
}

// bwDoubt is the bandwidth-fraction targets' doubt.
func bwDoubt(f figures) string { return f.bwDoubt }

// decodeOnly: a decode target needs generated tokens.
func decodeOnly(f figures) bool { return f.b.Generate > 0 }

// shortContext: bandwidth targets judge decode from a short context. At
// depth, attention's cost is phase 5's subject, shown by the ladder
// (phase 4's f32 cache and plain attention against phase 5's), not gated
// against the weights' roofline.
func shortContext(f figures) bool { return f.b.Generate > 0 && f.b.Depth == 0 }

// suiteTargets are the suite's own targets for a model (floors and
// ceilings on every machine).
func suiteTargets(t suite.Targets) []target {
	return []target{
		{"decode tok/s", "decode", ">=", t.DecodeTPSMin, func(f figures) float64 { return f.decode }, decodeOnly, nil},
		{"decode fraction of read bandwidth", "decode", ">=", t.DecodeBWFraction, func(f figures) float64 { return f.bwFraction }, shortContext, bwDoubt},
		{"TTFT ms", "prefill", "<=", t.TTFTMsMax, func(f figures) float64 { return f.ttft }, nil, nil},
		{"prefill tok/s", "prefill", ">=", t.PrefillTPSMin, func(f figures) float64 { return f.pre }, nil, nil},
	}
}

// profileTargets are a machine profile's targets for one identity.
func profileTargets(pt profile.Target, phase string) []target {
	return []target{
		{"decode tok/s", "decode", ">=", pt.DecodeTPSMin, func(f figures) float64 { return f.decode }, decodeOnly, nil},
		{"decode fraction of read bandwidth", "decode", ">=", pt.DecodeBWFractionMin, func(f figures) float64 { return f.bwFraction }, shortContext, bwDoubt},
		{fmt.Sprintf("TTFT ms (%d-token prompt)", pt.TTFTPrompt), "prefill", "<=", pt.TTFTMsMax, func(f figures) float64 { return f.ttft },
			func(f figures) bool { return f.b.Prompt == pt.TTFTPrompt }, nil},
		// The seed's 16.7 s -> < 2 s: the tiled GEMM against phase 2's
		// prompt as a loop of GEMVs, same bench.
		{"TTFT speed-up over the GEMV loop (phase 2)", "prefill", ">=", pt.TTFTOverGEMVLoopMin, func(f figures) float64 { return f.overLoop },
			func(f figures) bool { return phase == overLoopPhase && !math.IsNaN(f.overLoop) }, func(f figures) string {
				if t := pt.TTFTOverGEMVLoopMin; f.overLo < t && f.overHi >= t {
					return fmt.Sprintf("the rounds straddle the target (%.3g-%.3g)", f.overLo, f.overHi)
				}
				return ""
			}},
		{"prefill fraction of the int8 peak", "prefill", ">=", pt.PrefillPeakFractionMin, func(f figures) float64 { return f.peakFraction },
			func(f figures) bool { return f.b.Depth == 0 && !math.IsNaN(f.peakFraction) }, nil},
		{"prefill / decode speed", "prefill", ">=", pt.PrefillOverDecodeMin, func(f figures) float64 { return f.pre / f.decode }, decodeOnly, nil},
	}
}

// gates evaluates the targets that apply to the phase on every bench:
// the suite's, then the machine profile's. A target of 0 is unset.
func gates(ph *phases.Phase, benches []*results.Bench, o Options, bw, peaks map[int]float64, bwNotes map[int]string, done map[string]*results.Phase) []results.Gate {
	var out []results.Gate
	judge := func(prefix string, ts []target, f figures, busy string) {
		for _, t := range ts {
			if t.target == 0 || !ph.Gates(t.stage) || t.applies != nil && !t.applies(f) {
				continue
			}
			why, doubt := busy, ""
			if t.doubt != nil {
				doubt = t.doubt(f)
			}
			if doubt != "" {
				why = doubt
			}
			g := newGate(prefix+" "+t.name, t.op, t.target, t.value(f), why)
			if g.Passed {
				g.Why = doubt // a pass carries its doubt, if any
			}
			out = append(out, g)
		}
	}
	for _, b := range benches {
		if strings.Contains(b.Model, "@") {
			continue // comparison kernels are shown, not gated
		}
		f := benchFigures(b, bw, peaks, done)
		if why := bwNotes[b.Threads]; why != "" {
			f.bwDoubt = "the read-bandwidth yardstick is suspect: " + why
		} else if f.bwFraction > 1 {
			f.bwDoubt = fmt.Sprintf("decode streamed faster than the read yardstick (%.1f GB/s): the host's bandwidth changed between the two", bw[b.Threads])
		}
		busy := busyWhy(b, o.Suite.Regression.MaxDisturbance) // why this bench's samples cannot fail a target
		id := fmt.Sprintf("%s/%s t=%d", b.Model, b.Workload, b.Threads)
		judge(id, suiteTargets(o.Suite.TargetsFor(b.Model)), f, busy)
		if o.Profile == nil {
			continue
		}
		for _, pt := range o.Profile.For(b.Identity) {
			if pt.InPhase(ph.Name) {
				judge("profile "+o.Profile.Name+": "+id, profileTargets(pt, ph.Name), f, busy)
			}
		}
	}
	return out
}

func benchFigures(b *results.Bench, bw, peaks map[int]float64, done map[string]*results.Phase) figures {
	f := figures{b: b, decode: b.Median(results.DecodeTPS), gbs: b.Median(results.DecodeGBs), ttft: b.Median(results.TTFT),
		pre: b.Median(results.PrefillTPS), peakFraction: math.NaN(), overLoop: math.NaN(), overLo: math.NaN(), overHi: math.NaN()}
	f.bwFraction = f.gbs / bw[b.Threads]
	if pk := peaks[b.Threads]; pk > 0 && b.MatmulMACs > 0 {
		f.peakFraction = f.pre * float64(b.MatmulMACs) / 1e9 / pk
	}
	switch loop := sameBench(done["phase2"], b); {
	case len(b.OverLoop) > 0:
		f.overLoop = results.Median(b.OverLoop)
		f.overLo, f.overHi = slices.Min(b.OverLoop), slices.Max(b.OverLoop)
	case loop != nil:
		f.overLoop = loop.Median(results.TTFT) / f.ttft
	}
	return f
}

// newGate judges value against target ("<=" or ">="); NaN never passes.
// A miss while busy says why (the samples' host load) is inconclusive.
func newGate(name, op string, target, value float64, busy string) results.Gate {
	ok := value <= target
	if op == ">=" {
		ok = value >= target
	}
	if math.IsNaN(value) {
		ok = false
	}
	g := results.Gate{Name: name, Op: op, Target: target, Value: value, Passed: ok}
	if !ok && busy != "" {
		g.Inconclusive, g.Why = true, busy
	}
	return g
}

package llamabench

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/harness/machine"
	"asdsl-bench/internal/stats"
	"asdsl-bench/kernels"
)

// The small-batch cost curve (bench --curve): what verifying T drafted
// tokens in one call costs against one decode step, beside the
// machine's balance of int8 throughput to memory bandwidth.

// CurvePoint is the cost of evaluating Tokens tokens in one call.
type CurvePoint struct {
	Tokens int
	Ms     float64 // median over repetitions
	// Ratio is the median over rounds of this call's time over the first
	// batch size's call in the same round (1 for the first), and
	// RatioLo, RatioHi their range: the curve's figure, taken within
	// rounds so the host's drift between them (tens of percent within
	// minutes here) does not enter it.
	Ratio, RatioLo, RatioHi float64
	// Steps is where the timed repetitions' time went, step by step
	// (summed over them; Evals counts them), when BatchCurve was asked
	// for a breakdown.
	Steps engine.Breakdown
}

// CurveConfig is what BatchCurve measures.
type CurveConfig struct {
	Model    string
	Batches  []int // token counts per call; the first is the reference
	Threads  int   // 0: one per P-core
	Reps     int   // timed rounds
	Features engine.Features
	Kernels  *kernels.Ops // nil: the active table
	Tiles    engine.Tiles
	// Breakdown records where each point's calls went, step by step.
	Breakdown bool
	// Balance measures the machine beside the curve: the int8 peak of
	// the kernel table on the curve's threads before the rounds, and the
	// read bandwidth after each round, for each point's share of both.
	Balance bool
}

// Curve is a measured small-batch curve and, with Balance, the machine
// it ran on.
type Curve struct {
	Points      []CurvePoint
	Threads     int
	MACs        int64 // the matmuls' multiply-adds per token
	WeightBytes int64 // the matmuls' weights, read once per call
	// Peak and ReadGBs are zero without Balance. ReadGBs is the best
	// read pass between the rounds, on the curve's threads.
	Peak    machine.Int8Peak
	ReadGBs float64
}

// GMACs is point i's matmul multiply-adds per second over its median
// call (the call's other steps included: a lower bound on the matmuls'
// own rate).
func (c *Curve) GMACs(i int) float64 {
	p := c.Points[i]
	return float64(p.Tokens) * float64(c.MACs) / p.Ms / 1e6
}

// WeightGBs is point i's weight bytes per second over its median call.
func (c *Curve) WeightGBs(i int) float64 { return float64(c.WeightBytes) / c.Points[i].Ms / 1e6 }

// FlatShare is the share of the int8 peak point i's multiply-adds
// would take in the first point's time (what a flat curve needs), 0
// without a peak. A batch whose multiply-adds need most of the peak
// within a decode step's time cannot cost one step: the kernels' other
// instructions (unpacking the weights, scaling, reducing) share the
// same ports.
func (c *Curve) FlatShare(i int) float64 {
	if c.Peak.GMACs == 0 {
		return 0
	}
	return float64(c.Points[i].Tokens) * float64(c.MACs) / c.Points[0].Ms / 1e6 / c.Peak.GMACs
}

// BatchCurve measures the time to evaluate T new tokens after a 64-token
// context, for each T: speculative decoding verifies T drafted tokens in
// one call, so the curve should stay flat as T grows. Every token's
// logits are computed, as verification needs them (the output matrix
// meets T tokens too).
//
// The batch sizes take turns within each round (one call each, a
// warm-up round first), so a point and the first one are measured
// seconds apart, not minutes: with the sizes run one after another, a
// 7B's T = 4 read anywhere from 0.97 to 1.48 decode steps within one
// run as the host's memory speed moved. The order rotates from round to
// round, so no size always follows the same neighbour.
//
// With Breakdown, each point also records where its calls' time went
// (engine.Breakdown: worker 0's clock per step), to show which steps grow
// with T.
func BatchCurve(c CurveConfig) (*Curve, error) {
	batches, reps := c.Batches, c.Reps
	if len(batches) == 0 || reps < 1 {
		return nil, fmt.Errorf("need batch sizes and at least one repetition")
	}
	m, err := engine.Load(c.Model)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	maxT := 0
	for _, b := range batches {
		if b < 1 {
			return nil, fmt.Errorf("batch size %d", b)
		}
		maxT = max(maxT, b)
	}
	if 64+maxT > m.Config.NCtx {
		return nil, fmt.Errorf("batch of %d after 64 tokens needs %d positions, the model's context is %d", maxT, 64+maxT, m.Config.NCtx)
	}
	th := engine.SessionThreads(c.Threads)
	cv := &Curve{Threads: th, MACs: m.MatmulMACs(), WeightBytes: m.WeightBytes()}
	var rd *machine.Reader
	if c.Balance {
		ops := c.Kernels
		if ops == nil {
			ops = kernels.Active()
		}
		cv.Peak = machine.MeasureInt8PeakOf(ops.Int8Peak, th, 50*time.Millisecond, 6)
		rd = machine.NewReader(th, 1<<30)
		defer rd.Close()
	}
	s, err := m.NewSession(engine.SessionOptions{Context: 64 + maxT, Threads: th, Features: c.Features, Kernels: c.Kernels, Tiles: c.Tiles})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	ctx := make([]int32, 64+maxT)
	for i := range ctx {
		ctx[i] = int32(rng.IntN(m.Config.NVocab))
	}
	if _, err := s.Eval(ctx[:64], false); err != nil {
		return nil, err
	}
	out := make([]CurvePoint, len(batches))
	ms := make([][]float64, len(batches))
	ratios := make([][]float64, len(batches))
	round := make([]float64, len(batches))
	for r := 0; r < reps+1; r++ { // round 0 warms up
		// Each round starts one size later: a call right after a large
		// batch read up to 6% slower than the same call elsewhere in the
		// round (a 7B's T = 1 placed after its T = 8), and with a fixed
		// order that place would belong to one size in every round.
		for _, i := range stats.RoundOrder(len(batches), r) {
			T := batches[i]
			s.Rewind(64)
			if c.Breakdown && r > 0 {
				s.SetBreakdown(&out[i].Steps)
			}
			t0 := time.Now()
			_, err := s.Eval(ctx[64:64+T], true)
			round[i] = float64(time.Since(t0).Microseconds()) / 1000
			s.SetBreakdown(nil)
			if err != nil {
				return nil, err
			}
		}
		if r > 0 {
			for i, d := range round {
				ms[i] = append(ms[i], d)
				ratios[i] = append(ratios[i], d/round[0])
			}
		}
		if rd != nil {
			s.Rest() // the session's helpers would spin through the pass
			cv.ReadGBs = max(cv.ReadGBs, rd.PassEach())
		}
	}
	for i, T := range batches {
		out[i].Tokens = T
		out[i].Ms = stats.Median(ms[i])
		out[i].Ratio = stats.Median(ratios[i])
		out[i].RatioLo, out[i].RatioHi = slices.Min(ratios[i]), slices.Max(ratios[i])
	}
	cv.Points = out
	return cv, nil
}

package harness

import (
	"fmt"
	"io"

	"asdsl-bench/engine"
	"asdsl-bench/harness/gate"
	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/suite"
	"asdsl-bench/internal/stats"
	"asdsl-bench/kernels"
	"asdsl-bench/phases"
)

// overLoopPhase is the phase whose gain is the prompt as one tiled GEMM
// instead of a loop of GEMVs (phase 2 is phase 3 with Features.
// SequentialPrompt): the seed's TTFT 16.7 s -> under 2 s.
const overLoopPhase = "phase3"

// overLoop measures that gain side by side: per round, the prompt's TTFT
// as a loop of GEMVs (the phase's features with SequentialPrompt) over
// its TTFT as a GEMM, the two sessions in ABBA order, one repetition
// each, after one untimed each. Taken from phase 2's and phase 3's
// benches, minutes apart, the ratio was the host's as much as the
// engine's: the same engine read 6.88x in one run and 5.62x in the
// next (phase 2's loop 1352 ms and 1211 ms, phase 3's GEMM 197 and
// 215 ms).
func overLoop(m *engine.Model, w suite.Workload, threads int, ph *phases.Phase, ops *kernels.Ops, rounds int, log io.Writer) ([]float64, error) {
	need := w.Prompt + 1
	mk := func(sequential bool) (*engine.Session, error) {
		f := ph.Features
		f.SequentialPrompt = sequential
		return m.NewSession(engine.SessionOptions{Context: need, Threads: threads, Features: f, Kernels: ops})
	}
	var ss [2]*engine.Session // 0: the loop, 1: the GEMM
	for i := range ss {
		s, err := mk(i == 0)
		if err != nil {
			return nil, err
		}
		defer s.Close()
		ss[i] = s
	}
	mo := measure.Options{Prompt: w.Prompt, Reps: 1, Seed: 1}
	for _, s := range ss {
		if _, err := measure.Run(s, mo); err != nil {
			return nil, err
		}
	}
	var ratios []float64
	for r := 0; r < rounds; r++ {
		var ttft [2]float64
		for _, side := range gate.ABBA(r) {
			x, err := measure.Run(ss[side], mo)
			if err != nil {
				return nil, err
			}
			ttft[side] = x.Samples[0].TTFTms
		}
		ratios = append(ratios, ttft[0]/ttft[1])
	}
	if log != nil {
		fmt.Fprintf(log, "  TTFT over the prompt as a loop of GEMVs, side by side (%d rounds): %.2fx (rounds %s)\n", rounds, stats.Median(ratios), joinf("%.2f", ratios))
	}
	return ratios, nil
}

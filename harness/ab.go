package harness

import (
	"asdsl-bench/engine"
	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/results"
)

// ABCompare measures two engine configurations on the same model,
// alternating one repetition of each for the given number of rounds, so
// both see the same machine: on a shared VM throughput drifts by tens of
// percent within minutes, which would swamp a comparison of runs taken
// at different times. It returns the comparison of B against A.
func ABCompare(m *engine.Model, a, b engine.SessionOptions, oa, ob measure.Options, rounds int, alpha float64) ([]results.Delta, error) {
	sa, err := m.NewSession(a)
	if err != nil {
		return nil, err
	}
	defer sa.Close()
	sb, err := m.NewSession(b)
	if err != nil {
		return nil, err
	}
	defer sb.Close()
	oa.Reps, ob.Reps = 1, 1
	ra, rb := &measure.Result{}, &measure.Result{}
	for i := 0; i < rounds; i++ {
		x, err := measure.Run(sa, oa)
		if err != nil {
			return nil, err
		}
		y, err := measure.Run(sb, ob)
		if err != nil {
			return nil, err
		}
		ra.Samples = append(ra.Samples, x.Samples...)
		rb.Samples = append(rb.Samples, y.Samples...)
		ra.WeightBytes, rb.WeightBytes = x.WeightBytes, y.WeightBytes
	}
	wrap := func(r *measure.Result) *results.Run {
		return &results.Run{ID: "ab", Phases: []*results.Phase{{Name: "ab", Benches: []*results.Bench{
			{Model: "m", Workload: "w", Generate: oa.Generate, Prompt: oa.Prompt, Result: r}}}}}
	}
	return results.Compare(wrap(ra), wrap(rb), alpha), nil
}

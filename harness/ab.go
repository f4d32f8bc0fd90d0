package harness

import (
	"asdsl-bench/engine"
	"asdsl-bench/harness/gate"
	"asdsl-bench/harness/measure"
)

// ABCompare measures two engine configurations on the same model in one
// process, alternating one repetition of each (ABBA) for the given
// number of rounds, so both see the same machine, and judges TTFT and
// decode speed as the gate does (gate.Judge: each sample carries the
// host load seen during it). The gate itself compares builds in fresh
// processes (CompareBuilds); this is its in-process form for comparing
// engine settings.
func ABCompare(m *engine.Model, a, b engine.SessionOptions, oa, ob measure.Options, rounds int, r gate.Rules) ([]gate.Judgement, error) {
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
	// One untimed repetition each: a session's first prefill faults in
	// its cache and scratch (7–12 ms against 5 for the next on the small
	// mock), and would fall on the side that happens to go first.
	if _, err := measure.Run(sa, oa); err != nil {
		return nil, err
	}
	if _, err := measure.Run(sb, ob); err != nil {
		return nil, err
	}
	var ttft, dec [2][]gate.Obs
	for i := 0; i < rounds; i++ {
		for _, side := range gate.ABBA(i) {
			s, o := sa, oa
			if side == 1 {
				s, o = sb, ob
			}
			x, err := measure.Run(s, o)
			if err != nil {
				return nil, err
			}
			smp := x.Samples[0]
			ttft[side] = append(ttft[side], gate.Obs{Value: smp.TTFTms, Disturbance: smp.TTFTDisturbance()})
			if o.Generate > 0 {
				dec[side] = append(dec[side], gate.Obs{Value: smp.DecodeTPS, Disturbance: smp.DecodeDisturbance()})
			}
		}
	}
	out := []gate.Judgement{gate.Judge(gate.MetricTTFT, false, ttft[0], ttft[1], r)}
	if len(dec[0]) > 0 {
		out = append(out, gate.Judge(gate.MetricDecode, true, dec[0], dec[1], r))
	}
	return out, nil
}

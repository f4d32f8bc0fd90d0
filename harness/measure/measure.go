// Package measure runs one workload (a prompt, then generated tokens) on
// a session and records what the harness reports: TTFT, prefill and
// decode speed, per-token latency percentiles, achieved weight bandwidth,
// peak RSS, per-core usage, the CPUs the math threads ran on, and
// hardware or software counters.
package measure

import (
	"math/rand/v2"
	"runtime"
	"sort"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/harness/hostload"
)

// Counters are perf_event counts summed over the math threads, and why a
// group is missing when it is.
type Counters struct {
	Values              map[string]float64 `json:"values"`
	HardwareUnavailable string             `json:"hardware_unavailable,omitempty"`
	SoftwareUnavailable string             `json:"software_unavailable,omitempty"`
}

// Sample is one repetition of a workload.
type Sample struct {
	TTFTms     float64 `json:"ttft_ms"`
	PrefillTPS float64 `json:"prefill_tps"`
	DecodeTPS  float64 `json:"decode_tps"`
	P50ms      float64 `json:"token_ms_p50"`
	P90ms      float64 `json:"token_ms_p90"`
	// Disturbance is the share of the machine other processes and the
	// hypervisor took during the repetition (hostload); -1 when it could
	// not be measured. A target missed by a disturbed sample is
	// inconclusive, not failed.
	Disturbance float64 `json:"disturbance"`
	// TTFTLost and DecodeLost are the shares of the prefill's and of the
	// decode steps' wall time that the math threads spent runnable but
	// waiting for a CPU (hostload.RunDelay, summed over the threads, so
	// an upper bound on what the waits cost a step that waits for its
	// slowest thread); -1 when not measured. Disturbance is a share of
	// the whole machine over the whole repetition, read in 10 ms ticks:
	// it misses a preemption that doubles a 4 ms prefill. These do not.
	TTFTLost   float64 `json:"ttft_lost"`
	DecodeLost float64 `json:"decode_lost"`
}

// TTFTDisturbance is how disturbed the sample's TTFT was: the larger of
// the machine's load over the repetition and the prefill's lost share.
func (s Sample) TTFTDisturbance() float64 { return max(s.Disturbance, s.TTFTLost) }

// DecodeDisturbance is TTFTDisturbance for the decode steps.
func (s Sample) DecodeDisturbance() float64 { return max(s.Disturbance, s.DecodeLost) }

// Result is every repetition plus what was observed around them.
type Result struct {
	Samples     []Sample `json:"samples"`
	WeightBytes int64    `json:"weight_bytes"` // read per decoded token
	// KVBytesPerToken is one position's keys and values over all layers
	// in the session's cache format.
	KVBytesPerToken int64 `json:"kv_bytes_per_token"`
	PeakRSS         int64 `json:"peak_rss_bytes"` // high-water mark during this bench (where the OS can reset it)
	// Shares of all CPUs' time during the repetitions: the math threads,
	// the whole process (math threads, the runtime, the prefetch thread),
	// and every other process plus steal. Side by side they say whether
	// a slow figure was the engine or the host.
	MathCPUShare  float64         `json:"math_cpu_share"`
	OwnCPUShare   float64         `json:"own_cpu_share"`
	OtherCPUShare float64         `json:"other_cpu_share"`
	CoreBusy      map[int]float64 `json:"core_busy,omitempty"`   // per CPU, fraction busy during the run
	ThreadCPUs    map[int]int     `json:"thread_cpus,omitempty"` // math thread → CPU it last ran on
	ThreadBusy    map[int]float64 `json:"thread_busy,omitempty"` // math thread → CPU seconds
	Pinned        map[int]int     `json:"pinned,omitempty"`      // math thread → CPU it is pinned to
	Counters      Counters        `json:"counters"`
	Unavailable   []string        `json:"unavailable,omitempty"` // measurements that could not be made, and why
}

// Options of a measurement.
type Options struct {
	Prompt, Generate int
	// Depth tokens of context are evaluated before the prompt, untimed.
	Depth        int
	Reps, Warmup int
	Seed         uint64
	// Slowdown multiplies every measured duration by waiting, after each
	// timed step, for (Slowdown-1) times its length. Test-only: it is how
	// the gate's tests show that a real 2x regression is caught.
	Slowdown float64
	// Progress, when set, is told after each repetition (warm-up ones
	// included) how many of all of them are done.
	Progress func(done, total int64)
}

// Run measures a workload on a fresh context of the session.
func Run(s *engine.Session, o Options) (*Result, error) {
	m := s.Model()
	rng := rand.New(rand.NewPCG(o.Seed, 99))
	prompt := make([]int32, o.Prompt)
	for i := range prompt {
		prompt[i] = int32(rng.IntN(m.Config.NVocab))
	}
	depth := make([]int32, o.Depth)
	for i := range depth {
		depth[i] = int32(rng.IntN(m.Config.NVocab))
	}
	res := &Result{WeightBytes: m.WeightBytes(), KVBytesPerToken: s.KVBytesPerToken()}
	tids := s.ThreadIDs()
	res.Pinned = map[int]int{}
	for _, w := range s.Workers() {
		if w.Pinned {
			res.Pinned[w.TID] = w.CPU
		}
	}
	lost := hostload.NewLostClock(tids) // restarted around each timed interval
	one := func() (Sample, error) {
		s.Reset()
		if len(depth) > 0 {
			if _, err := s.Eval(depth, false); err != nil {
				return Sample{}, err
			}
		}
		load0, errLoad := hostload.Take()
		own0 := hostload.SelfCPU()
		lost.Restart()
		t0 := time.Now()
		lg, err := s.Eval(prompt, false)
		if err != nil {
			return Sample{}, err
		}
		next := engine.Argmax(lg)
		ttft := slow(time.Since(t0), o.Slowdown)
		ttftLost := lost.Share(ttft)
		steps := make([]time.Duration, 0, o.Generate) // no growth between timed steps
		tok := []int32{next}
		lost.Restart()
		for i := 0; i < o.Generate; i++ {
			t := time.Now()
			lg, err := s.Eval(tok, false)
			if err != nil {
				return Sample{}, err
			}
			tok[0] = engine.Argmax(lg)
			steps = append(steps, slow(time.Since(t), o.Slowdown))
		}
		smp := Sample{TTFTms: ms(ttft), PrefillTPS: float64(o.Prompt) / ttft.Seconds(), Disturbance: -1, TTFTLost: ttftLost, DecodeLost: -1}
		if errLoad == nil {
			if load1, err := hostload.Take(); err == nil {
				if l, err := hostload.Between(load0, load1, hostload.SelfCPU()-own0); err == nil {
					smp.Disturbance = l.Disturbance()
				}
			}
		}
		if len(steps) > 0 {
			var tot time.Duration
			for _, d := range steps {
				tot += d
			}
			smp.DecodeTPS = float64(len(steps)) / tot.Seconds()
			smp.DecodeLost = lost.Share(tot)
			sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
			smp.P50ms = ms(steps[len(steps)/2])
			smp.P90ms = ms(steps[min(len(steps)-1, len(steps)*9/10)])
		}
		return smp, nil
	}
	total := int64(o.Warmup + o.Reps)
	tick := func(done int) {
		if o.Progress != nil {
			o.Progress(int64(done), total)
		}
	}
	for i := 0; i < o.Warmup; i++ {
		if _, err := one(); err != nil {
			return nil, err
		}
		tick(i + 1)
	}
	if !resetPeakRSS() {
		res.Unavailable = append(res.Unavailable, "peak RSS per bench: the OS cannot reset the high-water mark, so it is the process's lifetime peak")
	}
	cs := openCounters(tids)
	defer cs.read() // closes the counters when a repetition fails
	cs.reset()
	before, errStat := readCPUTimes()
	ticks0 := map[int]uint64{}
	for _, tid := range tids {
		if _, t, err := threadStat(tid); err == nil {
			ticks0[tid] = t
		}
	}
	snap0, errSnap := hostload.Take()
	own0 := hostload.SelfCPU()
	for i := 0; i < o.Reps; i++ {
		smp, err := one()
		if err != nil {
			return nil, err
		}
		res.Samples = append(res.Samples, smp)
		tick(o.Warmup + i + 1)
	}
	res.Counters = cs.read()
	if errStat == nil {
		if after, err := readCPUTimes(); err == nil {
			res.CoreBusy = busy(before, after)
		}
	} else {
		res.Unavailable = append(res.Unavailable, "per-core usage: "+errStat.Error())
	}
	res.ThreadCPUs, res.ThreadBusy = map[int]int{}, map[int]float64{}
	for _, tid := range tids {
		if cpu, t, err := threadStat(tid); err == nil {
			res.ThreadCPUs[tid] = cpu
			res.ThreadBusy[tid] = float64(t-ticks0[tid]) / 100 // USER_HZ is 100 on Linux
		}
	}
	if snap1, err := hostload.Take(); errSnap == nil && err == nil && snap1.Total > snap0.Total {
		total := float64(snap1.Total - snap0.Total)
		own := hostload.SelfCPU() - own0
		var math float64
		for _, s := range res.ThreadBusy {
			math += s
		}
		res.MathCPUShare = math * 1e9 / total
		res.OwnCPUShare = float64(own) / total
		if l, err := hostload.Between(snap0, snap1, own); err == nil {
			res.OtherCPUShare = l.Disturbance()
		}
	}
	if len(res.ThreadCPUs) == 0 {
		res.Unavailable = append(res.Unavailable, "math thread CPUs: /proc/self/task not readable on "+runtime.GOOS)
	}
	res.PeakRSS = peakRSS()
	return res, nil
}

func slow(d time.Duration, factor float64) time.Duration {
	if factor > 1 {
		return d + Spin(time.Duration(float64(d)*(factor-1)))
	}
	return d
}

// Spin burns CPU on the calling thread for d of wall time and returns
// the time it took. It is the test-only slowdown: a real regression
// keeps the core busy, and a sleeping one would hand the core to other
// processes, which the host-load accounting would then count against
// the samples (as disturbance) instead of against the code.
func Spin(d time.Duration) time.Duration {
	t0 := time.Now()
	x := 0
	for time.Since(t0) < d {
		for i := 0; i < 1000; i++ {
			x += i
		}
	}
	sink = x
	return time.Since(t0)
}

var sink int // keeps Spin's loop from being optimised away

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

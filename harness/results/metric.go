package results

import "fmt"

// Metric is one measured quantity of a bench: the key it is stored under
// (run records and Go benchmark output), its unit, and which way is
// better — carried with the metric, as x/perf's benchfmt units carry
// theirs, rather than guessed from the key's spelling.
type Metric struct {
	Key    string
	Unit   string
	Better Direction
}

// Direction says which way a metric improves.
type Direction int

const (
	HigherIsBetter Direction = iota
	LowerIsBetter
)

// The metrics of a Bench (Bench.Metrics gives their samples by Key).
var (
	TTFT       = Metric{"ttft-ms", "ms", LowerIsBetter}           // time to first token
	PrefillTPS = Metric{"prefill-tok/s", "tok/s", HigherIsBetter} // prompt tokens per second
	DecodeTPS  = Metric{"decode-tok/s", "tok/s", HigherIsBetter}  // generated tokens per second
	DecodeGBs  = Metric{"decode-GB/s", "GB/s", HigherIsBetter}    // bytes a decoded token reads, per second
	TokenP50   = Metric{"token-ms-p50", "ms", LowerIsBetter}      // median time per generated token
	TokenP90   = Metric{"token-ms-p90", "ms", LowerIsBetter}      // 90th percentile of it
)

// BenchMetrics lists the metrics of a Bench in report order.
var BenchMetrics = []Metric{TTFT, PrefillTPS, DecodeTPS, DecodeGBs, TokenP50, TokenP90}

// MetricByKey finds a Bench metric by its stored key.
func MetricByKey(key string) (Metric, error) {
	for _, m := range BenchMetrics {
		if m.Key == key {
			return m, nil
		}
	}
	return Metric{}, fmt.Errorf("unknown metric %q", key)
}

// Worse is how much worse v is than old as a fraction (positive: worse),
// in the metric's own direction.
func (m Metric) Worse(old, v float64) float64 {
	if m.Better == LowerIsBetter {
		return v/old - 1
	}
	return 1 - v/old
}

package results

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// WriteBenchfmt writes every sample of every bench as a Go benchmark
// result line, so `benchstat old.bench new.bench` works on our runs.
// Configuration lines carry the commit, CPU and suite.
func WriteBenchfmt(w io.Writer, r *Run) error {
	bw := benchfmt.NewWriter(w)
	cfg := []benchfmt.Config{
		{Key: "commit", Value: []byte(r.Commit), File: true},
		{Key: "cpu", Value: []byte(r.Machine.CPU), File: true},
		{Key: "isa", Value: []byte(r.Machine.ISA), File: true},
		{Key: "suite", Value: []byte(r.Suite), File: true},
	}
	for _, p := range r.Phases {
		for _, b := range p.Benches {
			ms := b.Metrics()
			names := slices.Sorted(maps.Keys(ms))
			n := 0
			for _, k := range names {
				n = max(n, len(ms[k]))
			}
			for i := 0; i < n; i++ {
				res := &benchfmt.Result{Config: cfg, Name: benchfmt.Name(benchName(p.Name, b)), Iters: 1}
				for _, k := range names {
					if i < len(ms[k]) {
						res.Values = append(res.Values, benchfmt.Value{Value: ms[k][i], Unit: k})
					}
				}
				if err := bw.Write(res); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// benchName is "Phase3/model=small/workload=chat/threads=2": the phase
// capitalised, as Go benchmark names begin with an upper-case letter
// after the "Benchmark" prefix.
func benchName(phase string, b *Bench) string {
	// A benchmark name ends at the first blank in the format.
	clean := strings.NewReplacer(" ", "_", "\t", "_")
	return fmt.Sprintf("%s%s/model=%s/workload=%s/threads=%d", strings.ToUpper(phase[:1]), phase[1:], clean.Replace(b.Model), clean.Replace(b.Workload), b.Threads)
}

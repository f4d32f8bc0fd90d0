package llamabench

import (
	"fmt"
	"io"
	"time"

	"asdsl-bench/engine"
)

// writeBreakdown prints where a generated token's time went: per step,
// milliseconds per token and share of the token's wall time (perToken,
// from the timed repetitions), and for the weight matrices the rate at
// which they were streamed, against the read bandwidth readGBs measured
// on the same threads (0: not measured). Steps are timed on worker 0, so
// a parallel op's time includes waiting for the slowest worker; that
// waiting is also given in total.
func writeBreakdown(w io.Writer, b *engine.Breakdown, perToken time.Duration, readGBs float64) {
	if b.Tokens == 0 {
		return
	}
	tok := float64(b.Tokens)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 / tok }
	share := func(d time.Duration) float64 { return 100 * float64(d) / tok / float64(perToken) }
	fmt.Fprintf(w, "  where a token's %.2f ms went (worker 0's clock over %d tokens):\n", float64(perToken)/1e6, b.Tokens)
	fmt.Fprintf(w, "  %-10s %9s %7s %14s\n", "step", "ms/token", "share", "weights GB/s")
	var matmul time.Duration
	var bytes int64
	for st := engine.Step(0); st < engine.NumSteps; st++ {
		d := b.Time[st]
		if d == 0 && b.Bytes[st] == 0 {
			continue
		}
		rate := ""
		if st.Matmul() && d > 0 {
			matmul += d
			bytes += b.Bytes[st]
			rate = streamRate(b.Bytes[st], d, readGBs)
		}
		fmt.Fprintf(w, "  %-10s %9.3f %6.1f%% %s\n", st, ms(d), share(d), rate)
	}
	fmt.Fprintf(w, "  %-10s %9.3f %6.1f%% %s\n", "matmuls", ms(matmul), share(matmul), streamRate(bytes, matmul, readGBs))
	rest := perToken*time.Duration(b.Tokens) - b.Total()
	fmt.Fprintf(w, "  %-10s %9.3f %6.1f%%   (Eval's own work outside the steps)\n", "other", ms(rest), share(rest))
	fmt.Fprintf(w, "  waiting at op ends, inside the steps above: %.3f ms per token (%.1f%%)\n", ms(b.Wait), share(b.Wait))
}

// streamRate formats bytes read in d as GB/s and as a fraction of the
// read bandwidth.
func streamRate(bytes int64, d time.Duration, readGBs float64) string {
	gbs := float64(bytes) / d.Seconds() / 1e9
	if readGBs <= 0 {
		return fmt.Sprintf("%14.1f", gbs)
	}
	return fmt.Sprintf("%14.1f (%.0f%% of %.1f)", gbs, 100*gbs/readGBs, readGBs)
}

// WriteCurveBreakdown prints, for a batch curve taken with a breakdown,
// each step's milliseconds per call at every batch size side by side,
// and its growth from the first batch size to the last: which steps a
// verification batch pays for, and which it shares.
func WriteCurveBreakdown(w io.Writer, pts []CurvePoint) {
	if len(pts) == 0 || pts[0].Steps.Evals == 0 {
		return
	}
	perCall := func(p CurvePoint, d time.Duration) float64 {
		return float64(d) / 1e6 / float64(max(1, p.Steps.Evals))
	}
	fmt.Fprintf(w, "where a call's time went (ms per call, worker 0's clock):\n%-10s", "step")
	for _, p := range pts {
		fmt.Fprintf(w, " %8s", fmt.Sprintf("T=%d", p.Tokens))
	}
	first, last := pts[0], pts[len(pts)-1]
	fmt.Fprintf(w, " %9s\n", fmt.Sprintf("T=%d/T=%d", last.Tokens, first.Tokens))
	row := func(name string, d func(CurvePoint) time.Duration) {
		fmt.Fprintf(w, "%-10s", name)
		for _, p := range pts {
			fmt.Fprintf(w, " %8.3f", perCall(p, d(p)))
		}
		if a := perCall(first, d(first)); a > 0 {
			fmt.Fprintf(w, " %8.2fx", perCall(last, d(last))/a)
		}
		fmt.Fprintln(w)
	}
	for st := engine.Step(0); st < engine.NumSteps; st++ {
		if first.Steps.Time[st] == 0 && last.Steps.Time[st] == 0 {
			continue
		}
		row(st.String(), func(p CurvePoint) time.Duration { return p.Steps.Time[st] })
	}
	row("waiting", func(p CurvePoint) time.Duration { return p.Steps.Wait })
}

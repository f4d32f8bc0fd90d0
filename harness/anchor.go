package harness

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"asdsl-bench/harness/llamabench"
	"asdsl-bench/harness/results"
	"asdsl-bench/harness/suite"
)

// runAnchor runs the suite's external engine (a llama-bench command
// line) on the same model and parses its JSON. Failures are logged and
// leave the anchor empty: the anchor is for comparison, not a gate.
func runAnchor(a *suite.Anchor, model string, w suite.Workload, threads, reps int, log io.Writer) []results.AnchorResult {
	repl := strings.NewReplacer("{model}", model, "{prompt}", strconv.Itoa(w.Prompt), "{generate}", strconv.Itoa(w.Generate),
		"{threads}", strconv.Itoa(threads), "{reps}", strconv.Itoa(reps))
	args := make([]string, len(a.Command))
	for i, s := range a.Command {
		args[i] = repl.Replace(s)
	}
	cmd := exec.Command(args[0], args[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := startUnpinned(cmd); err != nil {
		fmt.Fprintf(log, "  anchor %s: cannot start: %v\n", a.Name, err)
		return nil
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			fmt.Fprintf(log, "  anchor %s: %v: %s\n", a.Name, err, strings.TrimSpace(errb.String()))
			return nil
		}
	case <-time.After(30 * time.Minute):
		cmd.Process.Kill()
		fmt.Fprintf(log, "  anchor %s: timed out\n", a.Name)
		return nil
	}
	rs, err := llamabench.Parse(out.Bytes())
	if err != nil {
		fmt.Fprintf(log, "  anchor %s: %v\n", a.Name, err)
		return nil
	}
	var ar []results.AnchorResult
	for _, r := range rs {
		ar = append(ar, results.AnchorResult{Engine: a.Name, Test: r.Test(), TPS: r.AvgTs})
	}
	return ar
}

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"asdsl-bench/engine"
	"asdsl-bench/harness/roofline"
)

// runCachegrind is the fallback for machines without hardware counters:
// it runs the Q4_K GEMV kernel under valgrind's cache simulator and
// reports simulated cache references and misses. Cachegrind cannot
// restrict counting to one function, so the workload runs twice — with
// its passes and with none — and the difference is the kernels' share.
// Valgrind cannot decode AVX-512, so the child uses the AVX2 kernels.
func runCachegrind(args []string) error {
	fs := newFlags("cachegrind", "cachegrind [--mib 16] [--passes 2]")
	mib := fs.Int("mib", 16, "Q4_K working set, MiB (keep it small: valgrind runs ~50x slower)")
	passes := fs.Int("passes", 2, "passes over the matrices")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *passes < 1 || *mib < 1 {
		return usagef("--mib and --passes must be at least 1")
	}
	full, err := cachegrindCounts(*mib, *passes)
	if err != nil {
		return err
	}
	setup, err := cachegrindCounts(*mib, 0)
	if err != nil {
		return err
	}
	d := map[string]float64{}
	for k, v := range full {
		d[k] = v - setup[k]
	}
	set := roofline.MatricesBytes(int64(*mib) << 20)
	weights := float64(set) * float64(*passes)
	fmt.Printf("cachegrind (simulated caches), Q4_K GEMV kernels only, %.1f MiB of weights x %d passes, AVX2, simulated 4 MiB last-level cache:\n", float64(set)/(1<<20), *passes)
	fmt.Printf("  instructions      %.4g (%.2f per weight byte)\n", d["I refs"], d["I refs"]/weights)
	fmt.Printf("  data references   %.4g\n", d["D refs"])
	fmt.Printf("  D1 misses         %.4g (%.2f%% of data references; %.2f per 64-byte line of weights)\n", d["D1 misses"], 100*d["D1 misses"]/d["D refs"], d["D1 misses"]/(weights/64))
	fmt.Printf("  last-level misses %.4g (%.2f per 64-byte line of weights: 1.0 means every line comes from memory once)\n", d["LLd misses"], d["LLd misses"]/(weights/64))
	return nil
}

var cgLine = regexp.MustCompile(`^==\d+== (I|D|LL|D1|LLd|LLi|I1)\s+(refs|misses):\s+([\d,]+)`)

func cachegrindCounts(mib, passes int) (map[string]float64, error) {
	vg, err := exec.LookPath("valgrind")
	if err != nil {
		return nil, fmt.Errorf("valgrind is not installed (Debian: apt-get install valgrind)")
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	// The simulated last-level cache is 4 MiB (a desktop core's share), so
	// that a working set of tens of MiB streams from "memory" as a big
	// model's weights do; the host's own L3 may hold the whole set.
	cmd := exec.Command(vg, "--tool=cachegrind", "--cache-sim=yes", "--cachegrind-out-file=/dev/null", "--LL=4194304,16,64",
		self, "kernelbench", fmt.Sprintf("--mib=%d", mib), fmt.Sprintf("--passes=%d", passes))
	cmd.Env = append(os.Environ(), "ASDSL_ISA=avx2")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("valgrind: %v\n%s", err, out.String())
	}
	counts := map[string]float64{}
	for _, line := range strings.Split(out.String(), "\n") {
		if m := cgLine.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(strings.ReplaceAll(m[3], ",", ""), 64)
			counts[m[1]+" "+m[2]] = v
		}
	}
	if len(counts) == 0 {
		return nil, fmt.Errorf("no cachegrind summary in valgrind's output:\n%s", out.String())
	}
	return counts, nil
}

// runKernelbench is the workload cachegrind simulates (not listed in help).
func runKernelbench(args []string) error {
	fs := newFlags("kernelbench", "kernelbench [--mib N] [--passes N]")
	mib := fs.Int("mib", 64, "working set, MiB")
	passes := fs.Int("passes", 2, "passes")
	if err := parse(fs, args); err != nil {
		return err
	}
	ms := roofline.Matrices(int64(*mib)<<20, 3)
	g, err := engine.NewGEMV(1)
	if err != nil {
		return err
	}
	defer g.Close()
	x := make([]float32, 11008)
	out := make([]float32, 11008)
	for p := 0; p < *passes; p++ {
		for _, m := range ms {
			if err := g.Mul(out[:m.Rows], m, x[:m.Cols]); err != nil {
				return err
			}
		}
	}
	return nil
}

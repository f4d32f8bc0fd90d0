package main

import (
	"fmt"
	"strings"
	"time"

	"asdsl-bench/engine/hugemem"
	"asdsl-bench/engine/pool"
	"asdsl-bench/engine/topology"
	"asdsl-bench/harness/machine"
	"asdsl-bench/kernels"
)

func runMachine(args []string) error {
	fs := newFlags("machine", "machine [--bandwidth=false] [--size MiB] [--reps N]")
	bw := fs.Bool("bandwidth", true, "measure memory read and copy bandwidth (about 2 s)")
	sizeMiB := fs.Int("size", 1024, "working set for the bandwidth test, MiB (far above the caches)")
	reps := fs.Int("reps", 10, "bandwidth repetitions; the best is kept")
	if err := parse(fs, args); err != nil {
		return err
	}
	c := machine.DetectCPU()
	fmt.Printf("cpu:        %s (%s family %d model %d)\n", c.Brand, c.Vendor, c.Family, c.Model)
	fmt.Printf("cores:      %d physical, %d logical per CPUID; %d usable by this process\n", c.Physical, c.Logical, c.OSCPUs)
	fmt.Printf("caches:     L1d %d KiB, L2 %d KiB per core, L3 %d MiB\n", c.L1D>>10, c.L2>>10, c.L3>>20)
	fmt.Printf("features:   %s\n", strings.Join(c.Features, " "))
	topo := topology.Detect()
	fmt.Printf("topology:   %s\n", topo.Summary())
	for _, n := range topo.Notes {
		fmt.Printf("            (%s)\n", n)
	}
	fmt.Printf("SMT groups: %v\n", topo.Cores())
	math := topo.MathThreads()
	p := pool.New(len(math), math)
	for _, w := range p.Workers() {
		state := "pinned"
		if !w.Pinned {
			state = "NOT pinned: " + w.Err
		}
		fmt.Printf("  math thread %d -> CPU %d (%s, thread id %d)\n", w.Worker, w.CPU, state, w.TID)
	}
	p.Close()
	fmt.Printf("            one math thread per physical P-core: SMT siblings share the core's execution units and\n")
	fmt.Printf("            E-cores would make every op wait for the slowest thread (override with -t)\n")
	fmt.Printf("kernels:    %s in use (prefetch distance %d bytes, %d blocks per repacked GEMV call)\n", kernels.Active().ISA, kernels.Active().Prefetch, kernels.Active().R4CallBlocks)
	for _, s := range kernels.ISAs() {
		state := "available"
		if !s.Supported {
			state = "not available: " + s.Reason
		}
		fmt.Printf("  %-8s %s\n", s.Name, state)
	}
	fmt.Printf("memory:     %s\n", hugemem.Mode())
	if *bw {
		fmt.Printf("memory bandwidth (%d MiB working set, best of %d passes per read pattern):\n", *sizeMiB, *reps)
		var counts []int
		for t := 1; t <= c.OSCPUs; t *= 2 {
			counts = append(counts, t)
		}
		bws := machine.MeasureBandwidths(counts, int64(*sizeMiB)<<20, *reps, func(s string) { fmt.Println("  " + s) })
		for _, t := range counts {
			b := bws[t]
			fmt.Printf("  %d thread(s): read %.1f GB/s (%s)\n", t, b.ReadGBs, b.Describe())
			if p := machine.MeasureInt8Peak(t, 200*time.Millisecond, *reps); p.Instr != "" {
				fmt.Printf("               int8 multiply-accumulate peak %.0f GMAC/s (%s)\n", p.GMACs, p.Instr)
			}
		}
	}
	return nil
}

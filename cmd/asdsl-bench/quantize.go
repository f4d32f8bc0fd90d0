package main

import (
	"fmt"
	"os"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/quant"
	"asdsl-bench/internal/progress"
)

func runQuantize(args []string) error {
	fs := newFlags("quantize", "quantize IN.gguf OUT.gguf --type q4_k_m|q4_k_s|q6_k|q8_0 [-t THREADS]")
	typ := fs.String("type", "q4_k_m", "recipe: q4_k_m, q4_k_s, q6_k or q8_0")
	threads := fs.Int("t", 0, "threads (default: one per CPU)")
	verbose := fs.Bool("v", false, "list every tensor's type")
	pure := fs.Bool("pure", false, "give every matrix the recipe's base type (no Q6_K/Q5_K upgrades)")
	compare := fs.String("compare", "", "after quantizing, print per-tensor RMSE of OUT and of this reference file (e.g. llama-quantize's output) against IN")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkThreads(*threads, "-t"); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("want IN.gguf and OUT.gguf")
	}
	ft, err := quant.ParseFileType(*typ)
	if err != nil {
		return usageError{err}
	}
	in, out := fs.Arg(0), fs.Arg(1)
	if err := distinctFiles(in, out); err != nil {
		return err
	}
	p := progress.New(os.Stderr, "quantizing "+in, 0, progress.Bytes)
	rep, err := quant.File(in, out, quant.Options{Type: ft, Pure: *pure, Threads: *threads, Progress: p.Update})
	p.Done()
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, t := range rep.Tensors {
		counts[t.To.String()]++
		if t.Fallback != "" {
			fmt.Fprintf(os.Stderr, "note: %s\n", t.Fallback)
		}
		if *verbose {
			fmt.Printf("%-36s %-5s -> %s\n", t.Name, t.From, t.To)
		}
	}
	if *compare != "" {
		if err := printComparison(in, out, *compare); err != nil {
			return err
		}
	}
	secs := rep.Elapsed.Seconds()
	fmt.Fprintf(os.Stderr, "wrote %s (%s): %.2f MiB -> %.2f MiB, types %v, %.3g weights in %v (%.3g weights/s)\n",
		out, ft, float64(rep.InBytes)/(1<<20), float64(rep.OutBytes)/(1<<20), counts,
		float64(rep.Weights), rep.Elapsed.Round(time.Millisecond), float64(rep.Weights)/secs)
	return nil
}

// printComparison prints the quality table: ours and the reference side
// by side, per tensor.
func printComparison(src, ours, ref string) error {
	var files [3]*gguf.File
	for i, p := range []string{src, ours, ref} {
		f, err := gguf.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		files[i] = f
	}
	rows := quant.Compare(files[0], files[1], files[2])
	tb := tablewriter.NewTable(os.Stdout, tablewriter.WithRenderer(renderer.NewMarkdown()), tablewriter.WithHeaderAutoFormat(tw.Off))
	tb.Header("tensor", "type", "RMSE ours", "ref type", "RMSE ref", "ours/ref", "identical blocks")
	var sumO, sumR float64
	for _, r := range rows {
		same := "-"
		if r.Blocks > 0 {
			same = fmt.Sprintf("%d/%d", r.SameBlocks, r.Blocks)
		}
		tb.Append(r.Name, r.Type.String(), fmt.Sprintf("%.6g", r.RMSE), r.RefType.String(),
			fmt.Sprintf("%.6g", r.RefRMSE), fmt.Sprintf("%.4f", r.RMSE/r.RefRMSE), same)
		sumO += r.RMSE
		sumR += r.RefRMSE
	}
	if err := tb.Render(); err != nil {
		return err
	}
	fmt.Printf("\nmean RMSE ratio ours/ref over %d tensors: %.4f\n", len(rows), sumO/sumR)
	return nil
}

// distinctFiles refuses an output that is the input (the same path, or a
// symbolic or hard link to it): the rename that finishes the write would
// replace the model being read.
func distinctFiles(in, out string) error {
	si, err := os.Stat(in)
	if err != nil {
		return err
	}
	so, err := os.Stat(out)
	if err != nil {
		return nil // no such output yet
	}
	if os.SameFile(si, so) {
		return usagef("OUT %s is the input file %s: refusing to replace the model being quantized", out, in)
	}
	return nil
}

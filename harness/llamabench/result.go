// Package llamabench speaks llama-bench's language: its result records
// (field names and JSON layout, so tools that read llama-bench read ours
// and we read theirs) and its markdown table.
package llamabench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// Result is one test (pp or tg at one thread count), with llama-bench's
// JSON field names. Fields llama-bench has that mean nothing for this
// engine keep llama-bench's neutral values.
type Result struct {
	BuildCommit string    `json:"build_commit"`
	BuildNumber int       `json:"build_number"`
	CPUInfo     string    `json:"cpu_info"`
	GPUInfo     string    `json:"gpu_info"`
	Backends    string    `json:"backends"`
	ModelFile   string    `json:"model_filename"`
	ModelType   string    `json:"model_type"`
	ModelSize   int64     `json:"model_size"`
	ModelParams int64     `json:"model_n_params"`
	NBatch      int       `json:"n_batch"`
	NUBatch     int       `json:"n_ubatch"`
	NThreads    int       `json:"n_threads"`
	CPUMask     string    `json:"cpu_mask"`
	CPUStrict   bool      `json:"cpu_strict"`
	Poll        int       `json:"poll"`
	TypeK       string    `json:"type_k"`
	TypeV       string    `json:"type_v"`
	NGPULayers  int       `json:"n_gpu_layers"`
	SplitMode   string    `json:"split_mode"`
	MainGPU     int       `json:"main_gpu"`
	NoKVOffload bool      `json:"no_kv_offload"`
	FlashAttn   int       `json:"flash_attn"`
	TensorSplit string    `json:"tensor_split"`
	UseMmap     bool      `json:"use_mmap"`
	Embeddings  bool      `json:"embeddings"`
	NPrompt     int       `json:"n_prompt"`
	NGen        int       `json:"n_gen"`
	NDepth      int       `json:"n_depth"`
	TestTime    string    `json:"test_time"`
	AvgNs       int64     `json:"avg_ns"`
	StddevNs    int64     `json:"stddev_ns"`
	AvgTs       float64   `json:"avg_ts"`
	StddevTs    float64   `json:"stddev_ts"`
	SamplesNs   []int64   `json:"samples_ns"`
	SamplesTs   []float64 `json:"samples_ts"`
	// SamplesLost is asdsl-bench's own field (llama-bench has none; its
	// readers skip it): per repetition, the share of its wall time the
	// math threads spent runnable but waiting for a CPU
	// (hostload.LostClock), -1 where it could not be read. The gate
	// reads it to tell a preempted repetition from a slow build.
	SamplesLost []float64 `json:"samples_lost,omitempty"`
}

// Test names the test as llama-bench does: pp512, tg128, pp512+tg128,
// and "tg128 @ d1920" after 1920 tokens of context.
func (r *Result) Test() string {
	var t string
	switch {
	case r.NPrompt > 0 && r.NGen > 0:
		t = fmt.Sprintf("pp%d+tg%d", r.NPrompt, r.NGen)
	case r.NPrompt > 0:
		t = fmt.Sprintf("pp%d", r.NPrompt)
	default:
		t = fmt.Sprintf("tg%d", r.NGen)
	}
	if r.NDepth > 0 {
		t += fmt.Sprintf(" @ d%d", r.NDepth)
	}
	return t
}

// SetSamples fills the sample arrays and their means and standard
// deviations from per-repetition durations, for `tokens` tokens each.
func (r *Result) SetSamples(ns []int64, tokens int) {
	r.SamplesNs = ns
	r.SamplesTs = make([]float64, len(ns))
	fns := make([]float64, len(ns))
	for i, n := range ns {
		r.SamplesTs[i] = float64(tokens) / (float64(n) / 1e9)
		fns[i] = float64(n)
	}
	m, s := meanStd(fns)
	r.AvgNs, r.StddevNs = int64(m), int64(s)
	r.AvgTs, r.StddevTs = meanStd(r.SamplesTs)
}

func meanStd(x []float64) (mean, std float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	if len(x) < 2 {
		return mean, 0
	}
	for _, v := range x {
		std += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(std / float64(len(x)-1))
}

// Parse reads llama-bench's JSON output (an array of results).
func Parse(data []byte) ([]Result, error) {
	var rs []Result
	if err := json.Unmarshal(data, &rs); err != nil {
		return nil, fmt.Errorf("llama-bench JSON: %w", err)
	}
	for i, r := range rs {
		if r.NPrompt < 0 || r.NGen < 0 || r.NThreads < 0 || (r.NPrompt == 0 && r.NGen == 0) {
			return nil, fmt.Errorf("llama-bench JSON: entry %d has no valid test (n_prompt %d, n_gen %d)", i, r.NPrompt, r.NGen)
		}
		if math.IsNaN(r.AvgTs) || math.IsInf(r.AvgTs, 0) || r.AvgTs < 0 {
			return nil, fmt.Errorf("llama-bench JSON: entry %d has avg_ts %v", i, r.AvgTs)
		}
	}
	return rs, nil
}

// WriteJSON writes results as llama-bench's -o json does.
func WriteJSON(w io.Writer, rs []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rs)
}

// WriteMarkdown writes llama-bench's markdown table.
func WriteMarkdown(w io.Writer, rs []Result) error {
	var b strings.Builder
	b.WriteString("| model                          |       size |     params | backend    | threads |            test |                  t/s |\n")
	b.WriteString("| ------------------------------ | ---------: | ---------: | ---------- | ------: | --------------: | -------------------: |\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %-30s | %10s | %10s | %-10s | %7d | %15s | %20s |\n",
			r.ModelType, humanSize(r.ModelSize), humanParams(r.ModelParams), r.Backends, r.NThreads, r.Test(),
			fmt.Sprintf("%.2f ± %.2f", r.AvgTs, r.StddevTs))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f KiB", float64(n)/(1<<10))
}

func humanParams(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f B", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2f M", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f K", float64(n)/1e3)
}

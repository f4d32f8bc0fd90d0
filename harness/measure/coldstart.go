package measure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// ColdSample is one cold start: the model's file evicted from the page
// cache, then opening it, a session (the repack, if on) and a prompt's
// first token, in a fresh process.
type ColdSample struct {
	Prefetch bool `json:"prefetch"`
	Repack   bool `json:"repack"`
	// Shares of the file in the page cache before and after eviction: a
	// file another process maps stays resident, and then the start was
	// not cold (the report says so).
	ResidentBefore     float64 `json:"resident_before"`
	ResidentAfterEvict float64 `json:"resident_after_evict"`
	LoadMs             float64 `json:"load_ms"` // open, map, session (and repack)
	TTFTMs             float64 `json:"ttft_ms"` // from open to the first token
	// Warm: the file was read into the page cache first, not evicted.
	Warm bool `json:"warm,omitempty"`
	// PeakRSS is the process's high-water mark after the first token
	// (0 where the OS does not say).
	PeakRSS int64 `json:"peak_rss_bytes,omitempty"`
}

// PeakRSS is this process's resident high-water mark in bytes (0 where
// the OS does not report it).
func PeakRSS() int64 { return peakRSS() }

// ColdStarts runs bin's coldstart command reps times for each
// configuration (prefetch on and off, on the repacked rows and on the
// GGUF layout), alternated round by round so drift falls on all alike.
func ColdStarts(bin, model string, prompt, threads, reps int) ([]ColdSample, error) {
	var out []ColdSample
	configs := [][]string{nil, {"--no-prefetch"}, {"--no-repack"}, {"--no-repack", "--no-prefetch"}}
	for r := 0; r < reps; r++ {
		for _, extra := range configs {
			args := append([]string{"coldstart", "-m", model, "-p", strconv.Itoa(prompt), "-t", strconv.Itoa(threads)}, extra...)
			cmd := exec.Command(bin, args...)
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("%s %s: %v: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(e.String()))
			}
			var cs ColdSample
			if err := json.Unmarshal(o.Bytes(), &cs); err != nil {
				return nil, fmt.Errorf("coldstart output: %v", err)
			}
			out = append(out, cs)
		}
	}
	return out, nil
}

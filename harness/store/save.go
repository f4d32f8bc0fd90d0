package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"asdsl-bench/harness/results"
)

// MachineID is the machine's fingerprint: CPU model, ISA, topology,
// CPU features and memory. Bandwidth is measured, not identity: it
// drifts on one host.
func MachineID(m results.Machine) string {
	f := append([]string(nil), m.Features...)
	sort.Strings(f)
	h := sha256.Sum256([]byte(strings.Join([]string{m.CPU, m.ISA, m.Topology, strings.Join(f, ","), fmt.Sprint(m.MemoryBytes)}, "\x00")))
	return hex.EncodeToString(h[:6])
}

// Save stores a run (its machine, commit, benches, samples and gates)
// in one transaction. It reports false, storing nothing, when a run of
// that id is already there: importing the same records twice is safe.
func (s *Store) Save(ctx context.Context, r *results.Run) (bool, error) {
	if r.ID == "" {
		return false, fmt.Errorf("run without an id")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() // a no-op after Commit
	exec := func(query string, args ...any) (int64, error) {
		res, err := tx.ExecContext(ctx, s.q(query), args...)
		if err != nil {
			return 0, fmt.Errorf("run %s: %w", r.ID, err)
		}
		return res.RowsAffected()
	}
	record, err := json.Marshal(r)
	if err != nil {
		return false, fmt.Errorf("run %s: %w", r.ID, err)
	}
	m := r.Machine
	mid := MachineID(m)
	commit := r.Commit
	if commit == "" {
		commit = "unknown"
	}
	// Writes first: SQLite then takes its write lock at once, under the
	// busy timeout, and never has to upgrade a read lock.
	if _, err := exec(`INSERT INTO machines (id, cpu, isa, topology, memory_bytes, read_gbs) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET read_gbs = excluded.read_gbs`, mid, m.CPU, m.ISA, m.Topology, m.MemoryBytes, mustJSON(m.ReadGBs)); err != nil {
		return false, err
	}
	if _, err := exec(`INSERT INTO commits (sha) VALUES (?) ON CONFLICT (sha) DO NOTHING`, commit); err != nil {
		return false, err
	}
	n, err := exec(`INSERT INTO runs (id, time, commit_sha, dirty, machine_id, suite, profile, passed, inconclusive, verdict, record)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		r.ID, r.Time.UTC().Format(time.RFC3339Nano), commit, b2i(r.Dirty), mid, r.Suite, r.Profile, b2i(r.Passed), b2i(r.Inconclusive), r.Verdict, string(record))
	if err != nil {
		return false, err
	}
	if n == 0 {
		return false, nil // stored before
	}
	bi, gi := 0, 0
	for _, p := range r.Phases {
		for _, b := range p.Benches {
			med := func(x results.Metric) any {
				v := b.Median(x)
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil
				}
				return v
			}
			if _, err := exec(`INSERT INTO benches (run_id, idx, phase, model, workload, threads, prompt, generate, depth, ttft_ms, prefill_tps, decode_tps, decode_gbs)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, bi, p.Name, b.Model, b.Workload, b.Threads, b.Prompt, b.Generate, b.Depth,
				med(results.TTFT), med(results.PrefillTPS), med(results.DecodeTPS), med(results.DecodeGBs)); err != nil {
				return false, err
			}
			ms := b.Metrics()
			keys := make([]string, 0, len(ms))
			for k := range ms {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for i, v := range ms[k] {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						continue
					}
					if _, err := exec(`INSERT INTO samples (run_id, bench_idx, metric, i, value) VALUES (?, ?, ?, ?, ?)`, r.ID, bi, k, i, v); err != nil {
						return false, err
					}
				}
			}
			bi++
		}
		for _, g := range p.Gates {
			var v any = g.Value
			if math.IsNaN(g.Value) || math.IsInf(g.Value, 0) {
				v = nil
			}
			if _, err := exec(`INSERT INTO gates (run_id, idx, phase, name, op, target, value, passed, inconclusive) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				r.ID, gi, p.Name, g.Name, g.Op, g.Target, v, b2i(g.Passed), b2i(g.Inconclusive)); err != nil {
				return false, err
			}
			gi++
		}
	}
	return true, tx.Commit()
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"asdsl-bench/harness/results"
)

// RunInfo is one stored run, in brief.
type RunInfo struct {
	ID, Commit, Suite, Profile, Verdict string
	Machine                             string // MachineID
	Time                                time.Time
	Dirty, Passed, Inconclusive         bool
}

// Outcome is the run's verdict in one word.
func (r RunInfo) Outcome() string {
	switch {
	case r.Verdict != "":
		return r.Verdict
	case r.Inconclusive && r.Passed:
		return "inconclusive"
	case r.Passed:
		return "pass"
	}
	return "fail"
}

// Runs lists the stored runs, newest first; machine "" means all.
func (s *Store) Runs(ctx context.Context, machine string) ([]RunInfo, error) {
	query := `SELECT id, time, commit_sha, dirty, machine_id, suite, profile, passed, inconclusive, verdict FROM runs`
	var args []any
	if machine != "" {
		query += ` WHERE machine_id = ?`
		args = append(args, machine)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY time DESC, id DESC`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RunInfo
	for rows.Next() {
		var ri RunInfo
		var t string
		var dirty, passed, inc int
		if err := rows.Scan(&ri.ID, &t, &ri.Commit, &dirty, &ri.Machine, &ri.Suite, &ri.Profile, &passed, &inc, &ri.Verdict); err != nil {
			return nil, err
		}
		ri.Time, _ = time.Parse(time.RFC3339Nano, t)
		ri.Dirty, ri.Passed, ri.Inconclusive = dirty != 0, passed != 0, inc != 0
		out = append(out, ri)
	}
	return out, rows.Err()
}

// Run returns a stored run's whole record.
func (s *Store) Run(ctx context.Context, id string) (*results.Run, error) {
	var rec string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT record FROM runs WHERE id = ?`), id).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var r results.Run
	if err := json.Unmarshal([]byte(rec), &r); err != nil {
		return nil, fmt.Errorf("run %q: stored record: %w", id, err)
	}
	return &r, nil
}

// Machine is one stored machine.
type Machine struct {
	ID, CPU, ISA, Topology string
	MemoryBytes            int64
	Runs                   int
	Models                 []string // models benched on it
}

// Machines lists the machines with their run counts and models.
func (s *Store) Machines(ctx context.Context) ([]Machine, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.id, m.cpu, m.isa, m.topology, m.memory_bytes, COUNT(r.id)
		FROM machines m LEFT JOIN runs r ON r.machine_id = m.id GROUP BY m.id, m.cpu, m.isa, m.topology, m.memory_bytes ORDER BY m.cpu, m.id`)
	if err != nil {
		return nil, err
	}
	var out []Machine
	for rows.Next() {
		var m Machine
		if err := rows.Scan(&m.ID, &m.CPU, &m.ISA, &m.Topology, &m.MemoryBytes, &m.Runs); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		mr, err := s.db.QueryContext(ctx, s.q(`SELECT DISTINCT b.model FROM benches b JOIN runs r ON r.id = b.run_id WHERE r.machine_id = ? ORDER BY b.model`), out[i].ID)
		if err != nil {
			return nil, err
		}
		for mr.Next() {
			var name string
			if err := mr.Scan(&name); err != nil {
				mr.Close()
				return nil, err
			}
			out[i].Models = append(out[i].Models, name)
		}
		mr.Close()
	}
	return out, nil
}

// Point is one bench's medians in one run: a point of a history chart.
type Point struct {
	RunID, Commit, Phase, Workload string
	Time                           time.Time
	Threads                        int
	TTFTms, PrefillTPS, DecodeTPS  sql.NullFloat64
}

// Series is every bench of one model on one machine, oldest run first.
func (s *Store) Series(ctx context.Context, machine, model string) ([]Point, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT r.id, r.commit_sha, r.time, b.phase, b.workload, b.threads, b.ttft_ms, b.prefill_tps, b.decode_tps
		FROM benches b JOIN runs r ON r.id = b.run_id WHERE r.machine_id = ? AND b.model = ? ORDER BY r.time, r.id, b.idx`), machine, model)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var p Point
		var t string
		if err := rows.Scan(&p.RunID, &p.Commit, &t, &p.Phase, &p.Workload, &p.Threads, &p.TTFTms, &p.PrefillTPS, &p.DecodeTPS); err != nil {
			return nil, err
		}
		p.Time, _ = time.Parse(time.RFC3339Nano, t)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Failure is one gate a run failed.
type Failure struct {
	RunID, Commit, Machine, Phase, Gate, Op string
	Time                                    time.Time
	Target                                  float64
	Value                                   sql.NullFloat64
}

// Failures lists failed gates, newest run first (inconclusive misses
// are not failures).
func (s *Store) Failures(ctx context.Context) ([]Failure, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.commit_sha, r.machine_id, r.time, g.phase, g.name, g.op, g.target, g.value
		FROM gates g JOIN runs r ON r.id = g.run_id WHERE g.passed = 0 AND g.inconclusive = 0 ORDER BY r.time DESC, r.id, g.idx`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Failure
	for rows.Next() {
		var f Failure
		var t string
		if err := rows.Scan(&f.RunID, &f.Commit, &f.Machine, &t, &f.Phase, &f.Gate, &f.Op, &f.Target, &f.Value); err != nil {
			return nil, err
		}
		f.Time, _ = time.Parse(time.RFC3339Nano, t)
		out = append(out, f)
	}
	return out, rows.Err()
}

// Targets are the gate targets on one model's benches on one machine,
// by phase and gate name (the latest run's value wins).
func (s *Store) Targets(ctx context.Context, machine string) (map[string]map[string]Target, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT g.phase, g.name, g.op, g.target FROM gates g JOIN runs r ON r.id = g.run_id
		WHERE r.machine_id = ? ORDER BY r.time, r.id`), machine)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]Target{}
	for rows.Next() {
		var phase, name string
		var t Target
		if err := rows.Scan(&phase, &name, &t.Op, &t.Value); err != nil {
			return nil, err
		}
		if out[phase] == nil {
			out[phase] = map[string]Target{}
		}
		out[phase][name] = t
	}
	return out, rows.Err()
}

// Target is a gate's comparison and value.
type Target struct {
	Op    string
	Value float64
}

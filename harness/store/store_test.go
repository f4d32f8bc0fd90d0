package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"asdsl-bench/harness/results"
	"asdsl-bench/internal/testruns"
)

// exercise runs the same checks on any engine: a round trip of whole
// records, idempotent saves, the listing, the chart series, the failed
// gates and the targets.
func exercise(t *testing.T, s *Store) {
	ctx := context.Background()
	m := testruns.Machine(1)
	var runs []*results.Run
	for i := 0; i < 4; i++ {
		runs = append(runs, testruns.Run(i, m, 40+float64(i), 41))
	}
	for _, r := range runs {
		if ok, err := s.Save(ctx, r); err != nil || !ok {
			t.Fatalf("save %s: %v, %v", r.ID, ok, err)
		}
	}
	if ok, err := s.Save(ctx, runs[0]); err != nil || ok {
		t.Fatalf("a second save of %s: stored %v, %v", runs[0].ID, ok, err)
	}
	got, err := s.Run(ctx, runs[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(runs[2])
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Fatalf("round trip changed the record:\n%s\n%s", a, b)
	}
	if _, err := s.Run(ctx, "no-such-run"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing run: %v", err)
	}
	list, err := s.Runs(ctx, "")
	if err != nil || len(list) != 4 || list[0].ID != runs[3].ID || list[3].ID != runs[0].ID {
		t.Fatalf("runs, newest first: %+v, %v", list, err)
	}
	ms, err := s.Machines(ctx)
	if err != nil || len(ms) != 1 || ms[0].ID != MachineID(m) || ms[0].Runs != 4 || len(ms[0].Models) != 1 || ms[0].Models[0] != "tiny" {
		t.Fatalf("machines: %+v, %v", ms, err)
	}
	pts, err := s.Series(ctx, MachineID(m), "tiny")
	if err != nil || len(pts) != 4 {
		t.Fatalf("series: %+v, %v", pts, err)
	}
	for i, p := range pts {
		if p.RunID != runs[i].ID || !p.DecodeTPS.Valid || p.DecodeTPS.Float64 != runs[i].Phases[0].Benches[0].Median(results.DecodeTPS) {
			t.Fatalf("point %d: %+v", i, p)
		}
	}
	fs, err := s.Failures(ctx)
	if err != nil || len(fs) != 1 || fs[0].RunID != runs[0].ID || fs[0].Value.Float64 != 40 {
		t.Fatalf("failures (only run 0's decode, 40, is below 41): %+v, %v", fs, err)
	}
	ts, err := s.Targets(ctx, MachineID(m))
	if err != nil || ts["phase3"]["tiny/short t=2 decode tok/s"] != (Target{">=", 41}) {
		t.Fatalf("targets: %+v, %v", ts, err)
	}
}

func TestSQLite(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "sub", "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exercise(t, s)
}

// writers is how many processes write at once, and how many runs each
// writes.
const writers, perWriter = 4, 5

// writerMachines: the writers share two machines, and run i of every
// writer is on commit i, so concurrent transactions contend for the same
// machine and commit rows, not only for the table.
const writerMachines = 2

// concurrentWriters starts writers processes (this test binary, running
// TestWriterProcess) that save runs to the store at dsn at the same
// time, then checks that every run, machine and commit arrived.
func concurrentWriters(t *testing.T, s *Store, dsn string) {
	var cmds []*exec.Cmd
	for w := 0; w < writers; w++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriterProcess$")
		cmd.Env = append(os.Environ(), "ASDSL_STORE_WRITER="+strconv.Itoa(w), "ASDSL_STORE_DB="+dsn)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("a writer failed: %v", err)
		}
	}
	checkAllWritten(t, s)
}

// Several processes write to one SQLite file at the same time: every run
// arrives.
func TestSQLiteConcurrentProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	concurrentWriters(t, s, path)
}

// TestWriterProcess is a child of concurrentWriters.
func TestWriterProcess(t *testing.T) {
	w, err := strconv.Atoi(os.Getenv("ASDSL_STORE_WRITER"))
	if err != nil {
		t.Skip("run by concurrentWriters")
	}
	s, err := Open(context.Background(), os.Getenv("ASDSL_STORE_DB"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < perWriter; i++ {
		r := testruns.Run(w*perWriter+i, testruns.Machine(w%writerMachines), 40, 30)
		r.Commit = fmt.Sprintf("c%039d", i)
		r.ID = results.NewID(r.Time, r.Commit)
		if _, err := s.Save(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

func checkAllWritten(t *testing.T, s *Store) {
	ctx := context.Background()
	list, err := s.Runs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != writers*perWriter {
		t.Fatalf("%d runs stored, want %d", len(list), writers*perWriter)
	}
	ms, err := s.Machines(ctx)
	if err != nil || len(ms) != writerMachines {
		t.Fatalf("machines: %d, %v", len(ms), err)
	}
	for _, m := range ms {
		if m.Runs != writers*perWriter/writerMachines {
			t.Fatalf("machine %s has %d runs, want %d", m.ID, m.Runs, writers*perWriter/writerMachines)
		}
		pts, err := s.Series(ctx, m.ID, "tiny")
		if err != nil || len(pts) != m.Runs {
			t.Fatalf("machine %s: %d points, %v", m.ID, len(pts), err)
		}
	}
}

func TestPostgres(t *testing.T) {
	dsn := startPostgres(t)
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exercise(t, s)
	if _, err := s.db.Exec(`DELETE FROM samples; DELETE FROM gates; DELETE FROM benches; DELETE FROM runs; DELETE FROM machines; DELETE FROM commits`); err != nil {
		t.Fatal(err)
	}
	// Many writer processes at once, each with its own connections.
	concurrentWriters(t, s, dsn)
}

func TestRedact(t *testing.T) {
	if got := redact("postgres://bench:secret@db.example:5432/results?sslmode=disable"); got != "postgres://bench:***@db.example:5432/results?sslmode=disable" {
		t.Fatal(got)
	}
	if s := fmt.Sprint(&Store{where: redact("postgres://u@h/db")}); s != "postgres://u@h/db" {
		t.Fatal(s)
	}
}

package main

import (
	"os"
	"path/filepath"
	"testing"

	"asdsl-bench/harness/results"
	"asdsl-bench/internal/testruns"
)

// db import stores records once, db export writes them back, and serve
// --static renders the pages, all on one SQLite file.
func TestDBCommands(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "in", "runs")
	for i := 0; i < 3; i++ {
		if _, err := results.Save(testruns.Run(i, testruns.Machine(1), 40+float64(i), 41), runs); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(dir, "results.db")
	for range 2 { // the second import finds every run stored already
		if err := runDB([]string{"import", runs, "--db", db}); err != nil {
			t.Fatal(err)
		}
	}
	if err := runDB([]string{"list", "--db", db}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := runDB([]string{"export", "--db", db, "--out", out}); err != nil {
		t.Fatal(err)
	}
	if got, _ := filepath.Glob(filepath.Join(out, "runs", "*.json")); len(got) != 3 {
		t.Fatalf("exported %d records, want 3", len(got))
	}
	site := filepath.Join(dir, "site")
	if err := runServe([]string{"--db", db, "--static", site}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(site, "index.html")); err != nil {
		t.Fatal(err)
	}
	if err := runDB([]string{"import", "--db", "off", runs}); err == nil {
		t.Fatal("--db off accepted by a command that needs the database")
	}
	if err := runDB([]string{"frobnicate"}); err == nil {
		t.Fatal("an unknown db command was accepted")
	}
}

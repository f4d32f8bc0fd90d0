package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"asdsl-bench/harness/results"
	"asdsl-bench/harness/store"
	"asdsl-bench/internal/progress"
)

// dbFlagHelp is the --db flag's text, shared by every command that
// reads or writes the results database.
const dbFlagHelp = "results database: a SQLite file or a postgres:// URL (default: results.db in the user's data directory, or $ASDSL_DB; \"off\": none)"

// dbPath resolves --db: the flag, else $ASDSL_DB, else the default
// file. "" means no database ("off").
func dbPath(flagValue string) (string, error) {
	v := flagValue
	if v == "" {
		v = os.Getenv("ASDSL_DB")
	}
	if v == "off" {
		return "", nil
	}
	if v != "" {
		return v, nil
	}
	return store.DefaultPath()
}

// openDB opens the results database --db names.
func openDB(flagValue string) (*store.Store, error) {
	p, err := dbPath(flagValue)
	if err != nil {
		return nil, err
	}
	if p == "" {
		return nil, usagef("--db off: this command needs the results database")
	}
	return store.Open(context.Background(), p)
}

// recordRun stores a finished run in the results database (the JSON
// record under reports/runs stays the exchange format either way). A
// database that cannot be reached is reported, not fatal: the record on
// disk can be imported later (db import).
func recordRun(flagValue string, run *results.Run) {
	p, err := dbPath(flagValue)
	if err == nil && p == "" {
		return
	}
	var s *store.Store
	if err == nil {
		s, err = store.Open(context.Background(), p)
	}
	if err == nil {
		defer s.Close()
		_, err = s.Save(context.Background(), run)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "warning: the run was not stored in the results database (import its record later with \"asdsl-bench db import\"): %v\n", err)
		return
	}
	fmt.Fprintf(os.Stderr, "stored in the results database %s\n", s)
}

func runDB(args []string) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(os.Stderr, `Usage: asdsl-bench db COMMAND [--db FILE|URL] ...

  db import DIR|FILE...   store run records (reports/runs/*.json); ones already stored are skipped
  db export [--out DIR]   write every stored run as a record (DIR/runs/<id>.json and .bench)
  db list                 list the stored runs, newest first
`)
		if len(args) == 0 {
			return usagef("db: which command?")
		}
		return nil
	}
	switch args[0] {
	case "import":
		return dbImport(args[1:])
	case "export":
		return dbExport(args[1:])
	case "list":
		return dbList(args[1:])
	}
	return usagef("db %q: unknown command (import, export, list)", args[0])
}

func dbImport(args []string) error {
	flags := newFlags("db import", "db import DIR|FILE... [--db FILE|URL]")
	db := flags.String("db", "", dbFlagHelp)
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() == 0 {
		return usagef("db import: give run records (.json) or directories of them")
	}
	var files []string
	for _, a := range flags.Args() {
		st, err := os.Stat(a)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	s, err := openDB(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	added, skipped := 0, 0
	bar := progress.New(os.Stderr, "importing", int64(len(files)), progress.Items)
	for _, f := range files {
		r, err := results.Load(f)
		if err != nil {
			bar.Done()
			return err
		}
		ok, err := s.Save(context.Background(), r)
		if err != nil {
			bar.Done()
			return fmt.Errorf("%s: %w", f, err)
		}
		if ok {
			added++
		} else {
			skipped++
		}
		bar.Add(1)
	}
	bar.Done()
	fmt.Fprintf(os.Stderr, "%d runs stored, %d already there, in %s\n", added, skipped, s)
	return nil
}

func dbExport(args []string) error {
	flags := newFlags("db export", "db export [--out DIR] [--db FILE|URL]")
	db := flags.String("db", "", dbFlagHelp)
	out := flags.String("out", "reports", "directory: records go to DIR/runs/")
	if err := parse(flags, args); err != nil {
		return err
	}
	s, list, err := storedRuns(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	dir := filepath.Join(*out, "runs")
	wrote, had := 0, 0
	for _, ri := range list {
		r, err := s.Run(context.Background(), ri.ID)
		if err != nil {
			return err
		}
		if _, err := results.Save(r, dir); err != nil {
			if errors.Is(err, fs.ErrExist) {
				had++ // records are never replaced
				continue
			}
			return err
		}
		wrote++
	}
	fmt.Fprintf(os.Stderr, "%d records written to %s, %d were there already\n", wrote, dir, had)
	return nil
}

func dbList(args []string) error {
	flags := newFlags("db list", "db list [--db FILE|URL]")
	db := flags.String("db", "", dbFlagHelp)
	if err := parse(flags, args); err != nil {
		return err
	}
	s, list, err := storedRuns(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, r := range list {
		fmt.Printf("%s  %s  %-12.12s  %-8s  %s  %s\n", r.Time.Format("2006-01-02 15:04"), r.Machine, r.Commit, r.Suite, r.Outcome(), r.ID)
	}
	return nil
}

// storedRuns opens the results database and lists its runs, newest
// first; the caller closes the store.
func storedRuns(db string) (*store.Store, []store.RunInfo, error) {
	s, err := openDB(db)
	if err != nil {
		return nil, nil, err
	}
	list, err := s.Runs(context.Background(), "")
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, list, nil
}

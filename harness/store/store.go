// Package store keeps harness runs beyond one checkout, behind one small
// API with two engines: SQLite in one file (embedded, the default; the
// pure-Go driver modernc.org/sqlite, so CGO_ENABLED=0 and Windows
// builds keep working) and PostgreSQL (a fleet of CI machines writing to
// one database; pgx). The run records under reports/runs/*.json stay the
// exchange format: Save takes a results.Run, Run gives it back whole.
//
// Schema: machines (a fingerprint of CPU model, ISA, topology and
// memory, with the last measured bandwidth), commits, runs (with the
// whole record as JSON), benches (per-bench medians for charts),
// samples (every sample of every metric) and gates.
//
// Concurrency: a Store is safe for concurrent use; many processes may
// write to one database at once. Save is one transaction whose first
// statement writes, so SQLite writers queue on its busy timeout instead
// of failing, and a run saved twice (same id) is stored once.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx"
	_ "modernc.org/sqlite"             // "sqlite"
)

// Store is an open results database.
type Store struct {
	db       *sql.DB
	postgres bool
	where    string // the file, or the server without its password
}

// IsPostgres says whether dsn names a PostgreSQL server rather than a
// SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// DefaultPath is the SQLite file used without --db: results.db in the
// user's data directory ($XDG_DATA_HOME/asdsl-bench, else
// ~/.local/share/asdsl-bench; %LocalAppData%\asdsl-bench on Windows).
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if runtime.GOOS == "windows" {
		dir = os.Getenv("LocalAppData")
	}
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no data directory for the results database (give --db): %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "asdsl-bench", "results.db"), nil
}

// Open opens (creating if needed) the database dsn names: a
// postgres:// URL or a SQLite file path.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s := &Store{postgres: IsPostgres(dsn), where: dsn}
	var err error
	if s.postgres {
		s.where = redact(dsn)
		s.db, err = sql.Open("pgx", dsn)
	} else {
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("results database %s: %w", dsn, err)
			}
		}
		// WAL lets readers (serve) run beside a writer; the busy timeout
		// makes concurrent writers wait their turn rather than fail.
		s.db, err = sql.Open("sqlite", "file:"+filepath.ToSlash(dsn)+"?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	}
	if err != nil {
		return nil, fmt.Errorf("results database %s: %w", s.where, err)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("results database %s: %w", s.where, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("results database %s: %w", s.where, err)
	}
	return s, nil
}

// String names the database (without a password).
func (s *Store) String() string { return s.where }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// redact drops the password from a postgres URL for messages.
func redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 {
		return dsn
	}
	user := dsn[scheme+3 : at]
	if i := strings.Index(user, ":"); i >= 0 {
		user = user[:i] + ":***"
	}
	return dsn[:scheme+3] + user + dsn[at:]
}

// q rewrites ? placeholders as PostgreSQL's $1, $2, ...
func (s *Store) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// schema is portable SQL: both engines read it as written (booleans as
// 0/1 integers, reals as DOUBLE PRECISION, no autoincrement keys).
var schema = []string{
	`CREATE TABLE IF NOT EXISTS machines (
		id TEXT PRIMARY KEY,
		cpu TEXT NOT NULL,
		isa TEXT NOT NULL,
		topology TEXT NOT NULL,
		memory_bytes BIGINT NOT NULL,
		read_gbs TEXT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS commits (
		sha TEXT PRIMARY KEY
	)`,
	`CREATE TABLE IF NOT EXISTS runs (
		id TEXT PRIMARY KEY,
		time TEXT NOT NULL,
		commit_sha TEXT NOT NULL REFERENCES commits(sha),
		dirty INTEGER NOT NULL,
		machine_id TEXT NOT NULL REFERENCES machines(id),
		suite TEXT NOT NULL,
		profile TEXT NOT NULL,
		passed INTEGER NOT NULL,
		inconclusive INTEGER NOT NULL,
		verdict TEXT NOT NULL,
		record TEXT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS runs_machine_time ON runs(machine_id, time)`,
	`CREATE TABLE IF NOT EXISTS benches (
		run_id TEXT NOT NULL REFERENCES runs(id),
		idx INTEGER NOT NULL,
		phase TEXT NOT NULL,
		model TEXT NOT NULL,
		workload TEXT NOT NULL,
		threads INTEGER NOT NULL,
		prompt INTEGER NOT NULL,
		generate INTEGER NOT NULL,
		depth INTEGER NOT NULL,
		ttft_ms DOUBLE PRECISION,
		prefill_tps DOUBLE PRECISION,
		decode_tps DOUBLE PRECISION,
		decode_gbs DOUBLE PRECISION,
		PRIMARY KEY (run_id, idx)
	)`,
	`CREATE TABLE IF NOT EXISTS samples (
		run_id TEXT NOT NULL,
		bench_idx INTEGER NOT NULL,
		metric TEXT NOT NULL,
		i INTEGER NOT NULL,
		value DOUBLE PRECISION NOT NULL,
		PRIMARY KEY (run_id, bench_idx, metric, i),
		FOREIGN KEY (run_id, bench_idx) REFERENCES benches(run_id, idx)
	)`,
	`CREATE TABLE IF NOT EXISTS gates (
		run_id TEXT NOT NULL REFERENCES runs(id),
		idx INTEGER NOT NULL,
		phase TEXT NOT NULL,
		name TEXT NOT NULL,
		op TEXT NOT NULL,
		target DOUBLE PRECISION NOT NULL,
		value DOUBLE PRECISION,
		passed INTEGER NOT NULL,
		inconclusive INTEGER NOT NULL,
		PRIMARY KEY (run_id, idx)
	)`,
}

func (s *Store) migrate(ctx context.Context) error {
	for _, stmt := range schema {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("creating the schema: %w", err)
		}
	}
	return nil
}

// ErrNotFound is returned for a run id the store does not hold.
var ErrNotFound = errors.New("no such run")

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return string(data)
}

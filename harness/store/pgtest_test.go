package store

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// startPostgres starts a throwaway PostgreSQL server from the Debian
// postgresql binaries (initdb, pg_ctl) in a temporary directory and
// returns a DSN for it; the server stops when the test ends. Without
// the binaries the test is skipped with a message saying so (the SQLite
// store is always tested). As root, the server runs as the postgres
// user (initdb refuses root).
func startPostgres(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("ASDSL_PG_BIN")
	if bin == "" {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		sort.Strings(dirs)
		if len(dirs) > 0 {
			bin = dirs[len(dirs)-1]
		}
	}
	if _, err := os.Stat(filepath.Join(bin, "initdb")); bin == "" || err != nil {
		t.Skip("PostgreSQL store NOT TESTED: no PostgreSQL server binaries (Debian package postgresql, or set ASDSL_PG_BIN)")
	}
	dir, err := os.MkdirTemp("", "asdsl-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	for _, d := range []string{data, sock} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("PostgreSQL store NOT TESTED: running as root and there is no postgres user to run the server as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, d := range []string{dir, data, sock} {
			if err := os.Chown(d, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(args ...string) {
		t.Helper()
		args = append(asUser, args...)
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	port := freePort(t)
	run(filepath.Join(bin, "initdb"), "-D", data, "-U", "bench", "--auth=trust", "-E", "UTF8", "--no-sync")
	run(filepath.Join(bin, "pg_ctl"), "-D", data, "-w", "-l", filepath.Join(dir, "log"),
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses= -c fsync=off", port, sock), "start")
	t.Cleanup(func() {
		args := append(asUser, filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop")
		exec.Command(args[0], args[1:]...).Run()
	})
	t.Logf("PostgreSQL %s on socket %s", filepath.Base(filepath.Dir(bin)), sock)
	return fmt.Sprintf("postgres://bench@/postgres?host=%s&port=%d&sslmode=disable", sock, port)
}

// freePort is a TCP port number nobody listens on (the server listens
// on a Unix socket only, whose name carries the port).
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

package gate

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repo makes a git repository with two commits on main and returns its
// directory and the two commit ids.
func repo(t *testing.T) (dir, first, second string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed: %v", err)
	}
	dir = t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(dir, "a"), []byte("1"), 0o644)
	run("add", "a")
	run("commit", "-qm", "one")
	first = run("rev-parse", "HEAD")
	os.WriteFile(filepath.Join(dir, "a"), []byte("2"), 0o644)
	run("commit", "-qam", "two")
	second = run("rev-parse", "HEAD")
	// A branch one commit past main: its baseline is the merge base.
	run("checkout", "-qb", "topic")
	os.WriteFile(filepath.Join(dir, "a"), []byte("3"), 0o644)
	run("commit", "-qam", "three")
	return dir, first, second
}

func TestDefaultRef(t *testing.T) {
	dir, first, second := repo(t)
	ref, err := DefaultRef(dir)
	if err != nil || ref != second {
		t.Fatalf("on a branch: %q, %v; want the merge base %s", ref, err, second)
	}
	exec.Command("git", "-C", dir, "checkout", "-q", "main").Run()
	ref, err = DefaultRef(dir)
	if err != nil || ref != "HEAD~1" {
		t.Fatalf("on main: %q, %v; want HEAD~1", ref, err)
	}
	if c, err := Resolve(dir, ref); err != nil || c != first {
		t.Fatalf("HEAD~1 resolves to %q, %v; want %s", c, err, first)
	}
	if _, err := Resolve(dir, "no-such-ref"); err == nil || !strings.Contains(err.Error(), "no-such-ref") {
		t.Fatalf("a missing revision: %v", err)
	}
	if _, err := DefaultRef(t.TempDir()); err == nil {
		t.Fatal("DefaultRef outside a repository succeeded")
	}
}

// A shallow clone without the revision says how to get it.
func TestResolveInAShallowClone(t *testing.T) {
	dir, _, _ := repo(t)
	clone := filepath.Join(t.TempDir(), "c")
	if out, err := exec.Command("git", "clone", "-q", "--depth", "1", "--branch", "main", "file://"+dir, clone).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	_, err := Resolve(clone, "HEAD~1")
	if err == nil || !strings.Contains(err.Error(), "shallow") {
		t.Fatalf("want a shallow-clone error, got %v", err)
	}
}

// BuildRef's cache: a binary already there for the commit is used as is,
// without git or a toolchain.
func TestBuildRefUsesTheCache(t *testing.T) {
	cache := t.TempDir()
	exe := filepath.Join(cache, "asdsl-bench-abc123")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := BuildRef(t.TempDir(), "abc123", cache, nil)
	if err != nil || got != exe {
		t.Fatalf("%q, %v", got, err)
	}
	// Not cached, and not a repository: a clear error, nothing left over.
	if _, err := BuildRef(t.TempDir(), "def456", cache, nil); err == nil || !strings.Contains(err.Error(), "worktree") {
		t.Fatalf("want a worktree error, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(cache, "asdsl-bench-def456")); err == nil {
		t.Fatal("a failed build left a binary in the cache")
	}
}

package gate

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// DefaultRef is the revision a change is judged against: the merge base
// with the main branch (origin/main, else main) when HEAD is on another
// branch, else HEAD~1 (on main itself, the commit before).
func DefaultRef(dir string) (string, error) {
	head, err := git(dir, "rev-parse", "--verify", "HEAD^{commit}")
	if err != nil {
		return "", err
	}
	for _, main := range []string{"origin/main", "main"} {
		if mb, err := git(dir, "merge-base", "HEAD", main); err == nil && mb != head {
			return mb, nil
		}
	}
	return "HEAD~1", nil
}

// Resolve turns a revision into a commit id, with a one-line reason when
// it cannot: no git, not a repository, a shallow clone without it.
func Resolve(dir, ref string) (string, error) {
	c, err := git(dir, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		if shallow, _ := git(dir, "rev-parse", "--is-shallow-repository"); shallow == "true" {
			return "", fmt.Errorf("revision %s is not in this shallow clone (git fetch --unshallow)", ref)
		}
		return "", fmt.Errorf("revision %s: %v", ref, err)
	}
	return c, nil
}

// BuildRef builds asdsl-bench at a commit with the Go toolchain that is
// running the gate (a temporary git worktree, removed afterwards) and
// caches the binary by commit in cacheDir; a second call returns the
// cached binary. GOTOOLCHAIN=local: a revision that needs another Go is
// an error, not a download.
func BuildRef(dir, commit, cacheDir string, log io.Writer) (string, error) {
	exe := filepath.Join(cacheDir, "asdsl-bench-"+commit)
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if _, err := os.Stat(exe); err == nil {
		return exe, nil
	}
	goBin, err := goTool()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	wt, err := os.MkdirTemp("", "asdsl-gate-worktree-")
	if err != nil {
		return "", err
	}
	os.Remove(wt) // git worktree add wants to create it
	if _, err := git(dir, "worktree", "add", "--detach", "--quiet", wt, commit); err != nil {
		return "", fmt.Errorf("git worktree for %s: %v", short(commit), err)
	}
	defer func() {
		git(dir, "worktree", "remove", "--force", wt)
		os.RemoveAll(wt)
	}()
	if log != nil {
		fmt.Fprintf(log, "gate: building the baseline %s (cached in %s)\n", short(commit), cacheDir)
	}
	tmp := exe + ".tmp"
	cmd := exec.Command(goBin, "build", "-o", tmp, "./cmd/asdsl-bench")
	cmd.Dir = wt
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build at %s: %v: %s", short(commit), err, lastLine(errb.String()))
	}
	if err := os.Rename(tmp, exe); err != nil {
		return "", err
	}
	return exe, nil
}

// goTool finds the go command of the toolchain this binary was built
// with, else the one on PATH.
func goTool() (string, error) {
	if root := runtime.GOROOT(); root != "" {
		p := filepath.Join(root, "bin", "go")
		if runtime.GOOS == "windows" {
			p += ".exe"
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no Go toolchain to build the baseline with: %v", err)
	}
	return p, nil
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if msg := lastLine(errb.String()); msg != "" {
			return "", fmt.Errorf("git %s: %s", args[0], msg)
		}
		return "", fmt.Errorf("git %s: %v", args[0], err)
	}
	return strings.TrimSpace(out.String()), nil
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

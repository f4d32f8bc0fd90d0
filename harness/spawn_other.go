//go:build !linux

package harness

import "os/exec"

// startUnpinned starts cmd. Off Linux a child's CPU mask comes from the
// process (Windows) or pinning is not done, so nothing is reset.
func startUnpinned(cmd *exec.Cmd) error { return cmd.Start() }

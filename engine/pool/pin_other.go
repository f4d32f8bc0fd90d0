//go:build !linux && !windows

package pool

import "errors"

func pinThread(int) error { return errors.New("thread pinning is not supported on this OS") }

func threadID() int { return 0 }

//go:build unix

package spool

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on f, held until f is closed (or the
// process dies), so that two gateways never append to one spool.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return fmt.Errorf("%w: give each gateway its own spool.dir", ErrLocked)
	}
	if err != nil {
		return fmt.Errorf("failed to lock the spool directory: %w", err)
	}
	return nil
}

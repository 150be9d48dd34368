//go:build !unix

package spool

import "os"

// lockFile is a no-op where flock is not available: run one gateway per
// spool directory.
func lockFile(f *os.File) error { return nil }

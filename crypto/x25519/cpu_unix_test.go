//go:build unix

package x25519_test

import "syscall"

// processCPU is this process's user and system CPU time, in nanoseconds.
// Benchmarks report it per operation next to wall time: on a machine shared
// with other work, it is the steadier figure.
func processCPU() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}

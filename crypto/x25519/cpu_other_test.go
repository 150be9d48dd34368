//go:build !unix

package x25519_test

func processCPU() (int64, bool) { return 0, false }

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// pinnedInterleave runs the interleaved comparison of kind g with the
// servers on the last CPU this process may use, and this process (the load
// generator) and a local Redis on the others; their CPUs are put back
// afterwards. Where that cannot be done, the report says why.
func (b *bench) pinnedInterleave(ctx context.Context, ks keySet, g string) error {
	allowed, err := affinity(os.Getpid())
	if err != nil {
		b.note("the pinned comparison did not run: " + err.Error())
		return nil
	}
	cpus, err := parseCPUList(allowed)
	switch {
	case err != nil:
		b.note("the pinned comparison did not run: " + err.Error())
		return nil
	case len(cpus) < 2:
		b.note("the pinned comparison did not run: this process may use one CPU only")
		return nil
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		b.note("the pinned comparison did not run: no taskset (util-linux) on this machine")
		return nil
	}
	servers := strconv.Itoa(cpus[len(cpus)-1])
	others := formatCPUList(cpus[:len(cpus)-1])
	if err := setAffinity(os.Getpid(), others); err != nil {
		b.note("the pinned comparison did not run: " + err.Error())
		return nil
	}
	defer setAffinity(os.Getpid(), allowed)
	where := fmt.Sprintf("each server alone on CPU %s (taskset), the load generator on CPU %s", servers, others)
	if pid := b.machine.redisPID; pid > 0 {
		was, err := affinity(pid)
		if err == nil {
			err = setAffinity(pid, others)
		}
		if err != nil {
			b.note(fmt.Sprintf("Redis could not be pinned for the pinned comparison (%v): it ran on every CPU, the servers' too", err))
			where += ", Redis on every CPU"
		} else {
			defer setAffinity(pid, was)
			where += " with Redis"
		}
	} else {
		where += ", Redis where it runs (not on this machine's /proc)"
	}
	b.serverCPUs, b.pinnedAs = servers, where
	defer func() { b.serverCPUs, b.pinnedAs = "", "" }()
	return b.interleave(ctx, ks, g)
}

// affinity is the CPU list process pid may run on (Linux).
func affinity(pid int) (string, error) {
	if runtime.GOOS != "linux" {
		return "", errors.New("CPUs are pinned on Linux only")
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no Cpus_allowed_list in /proc/%d/status", pid)
}

// setAffinity puts every thread of process pid on cpus (taskset -a -p).
func setAffinity(pid int, cpus string) error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset -a -p -c %s %d: %v: %s", cpus, pid, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// parseCPUList reads a CPU list as Linux writes it ("0-3,8,10-11").
func parseCPUList(s string) ([]int, error) {
	var cpus []int
	for part := range strings.SplitSeq(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("CPU list %q not understood", s)
		}
		z := a
		if isRange {
			if z, err = strconv.Atoi(hi); err != nil || z < a || z-a > 4096 {
				return nil, fmt.Errorf("CPU list %q not understood", s)
			}
		}
		for c := a; c <= z; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// formatCPUList writes cpus (ascending) as a CPU list, runs as ranges.
func formatCPUList(cpus []int) string {
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(cpus[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

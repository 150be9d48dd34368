// Command hotline-load measures the gateway under load and writes
// BENCHMARKS.md (`make bench`).
//
// It builds `hotline` into a temporary directory, generates throwaway agency
// keys and a config, starts `hotline serve` as a child process against a
// real Redis (REDIS_URL, else 127.0.0.1:6379) under a key prefix of its own,
// and drives it from here with keep-alive HTTP clients: signed Twilio
// webhooks, forged ones, the witness web form, a run at 80% of the measured
// peak and a web-form flood while signed SMS keep arriving. In the same run
// and the same way it measures a bare net/http handler and a minimal
// reference pipeline (signature check, upstream age to the same recipients,
// XADD), each also a child process, so that the gateway's figures are
// ratios that mean something on any machine. Peak RSS is the child's VmHWM
// (reset before each scenario). Traffic goes to 127.0.0.1 only; every Redis
// key it made is deleted at the end.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == helperCommand {
		os.Exit(helperMain(os.Args[2:], os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opt, err := parseOptions(args, stderr)
	if err != nil {
		return 2
	}
	b, err := newBench(ctx, opt, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "hotline-load: %v\n", err)
		return 1
	}
	defer b.close()
	if err := b.runAll(ctx); err != nil {
		fmt.Fprintf(stderr, "hotline-load: %v\n", err)
		return 1
	}
	report := b.report()
	fmt.Fprint(stdout, "\n"+report)
	if opt.out != "" {
		if err := os.WriteFile(opt.out, []byte(report), 0o644); err != nil {
			fmt.Fprintf(stderr, "hotline-load: failed to write %s: %v\n", opt.out, err)
			return 1
		}
		fmt.Fprintf(stderr, "hotline-load: wrote %s\n", opt.out)
	}
	return 0
}

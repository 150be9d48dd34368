package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisURL picks REDIS_URL, else a local Redis on 6379, else a throwaway
// redis-server from PATH, else an in-process Redis (only in a binary built
// with -tags demo, as make run does).
func redisURL(ctx context.Context, getenv func(string) string, w io.Writer) (string, func(), error) {
	if u := getenv("REDIS_URL"); u != "" {
		fmt.Fprintln(w, "hotline demo: using Redis at REDIS_URL (demo keys are removed on exit)")
		return u, func() {}, nil
	}
	if pingRedis(ctx, "127.0.0.1:6379", 300*time.Millisecond) {
		fmt.Fprintln(w, "hotline demo: using the local Redis at 127.0.0.1:6379 (demo keys are removed on exit)")
		return "redis://127.0.0.1:6379/0", func() {}, nil
	}
	if path, err := exec.LookPath("redis-server"); err == nil {
		return startRedisServer(ctx, path, w)
	}
	return inProcessRedis(w)
}

// pingRedis reports whether a Redis answers at addr within wait.
func pingRedis(ctx context.Context, addr string, wait time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: wait, MaxRetries: -1})
	defer rdb.Close()
	return rdb.Ping(ctx).Err() == nil
}

// startRedisServer runs a redis-server of the demo's own on a free port,
// keeping nothing on disk, and stops it on exit.
func startRedisServer(ctx context.Context, path string, w io.Writer) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("failed to find a free port for redis-server: %w", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	cmd := exec.Command(path, "--bind", "127.0.0.1", "--port", strconv.Itoa(addr.Port), "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("failed to start redis-server: %w", err)
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	for deadline := time.Now().Add(5 * time.Second); !pingRedis(ctx, addr.String(), 200*time.Millisecond); {
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("redis-server did not answer within 5s\nhint: set REDIS_URL to a running Redis")
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(w, "hotline demo: started redis-server on %s for the demo; it keeps nothing and stops on exit\n", addr)
	return "redis://" + addr.String() + "/0", stop, nil
}

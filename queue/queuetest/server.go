package queuetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// NeedRedisServer returns the path of redis-server (NeedProgram).
func NeedRedisServer(tb testing.TB) string {
	tb.Helper()
	return NeedProgram(tb, "redis-server")
}

// NeedProgram returns the path of a program a test runs. Without it the test
// fails under CI=true (.ci/run installs what the tests need) and is skipped
// elsewhere (a laptop with Go only still runs the rest of the suite).
func NeedProgram(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true but %s is not on PATH", name)
		}
		tb.Skipf("%s not on PATH", name)
	}
	return p
}

// Server is a redis-server child process on a loopback port of its own. A
// test may kill it and start it again on the same port, in the same
// directory, so with the same data when persistence is on.
type Server struct {
	Addr string
	// Dir is the server's working directory (--dir), short enough for a
	// unix socket; redis-server's log is Dir/redis.log.
	Dir string

	tb   testing.TB
	bin  string
	args []string
	cmd  *exec.Cmd
}

// NewServer prepares a redis-server without starting it: Addr is known
// before Start. args are redis-server's own: a configuration file first, if
// any, then --option value pairs, which override the file. The port, bind
// address, directory and log file are the helper's. The server is killed when
// tb ends, and its log is printed if tb failed.
func NewServer(tb testing.TB, args ...string) *Server {
	tb.Helper()
	bin := NeedRedisServer(tb)
	// Not tb.TempDir(): its path holds the test's name and can make a unix
	// socket path longer than the 100 or so bytes the kernel allows.
	dir, err := os.MkdirTemp("", "hl-redis-")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(tb)), Dir: dir, tb: tb, bin: bin, args: args}
	tb.Cleanup(func() {
		s.Kill()
		if tb.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "redis.log")); err == nil {
				tb.Logf("redis-server %s log:\n%s", s.Addr, tail(b, 40))
			}
		}
		os.RemoveAll(dir)
	})
	return s
}

// StartServer starts a throwaway redis-server (no persistence) with args
// after the defaults, and returns its URL.
func StartServer(tb testing.TB, args ...string) string {
	tb.Helper()
	s := NewServer(tb, append([]string{"--save", "", "--appendonly", "no"}, args...)...)
	s.Start()
	return s.URL()
}

// URL is the server's redis:// URL, without a user.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Start starts the server and waits until it answers, even with an error
// such as NOAUTH: a server that is still loading its data has not started.
func (s *Server) Start() {
	s.tb.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	// redis-server [config file] [--option value]...: the file comes first.
	var args, options []string
	if len(s.args) > 0 && !strings.HasPrefix(s.args[0], "--") {
		args, options = s.args[:1], s.args[1:]
	} else {
		options = s.args
	}
	args = slices.Concat(args, []string{"--port", port, "--bind", "127.0.0.1", "--dir", s.Dir,
		"--logfile", filepath.Join(s.Dir, "redis.log")}, options)
	s.cmd = exec.Command(s.bin, args...)
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func(cmd *exec.Cmd) {
		cmd.Process.Wait()
		close(exited)
	}(s.cmd)
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	WaitUntil(s.tb, 10*time.Second, "redis-server on "+s.Addr+" to answer", func() error {
		select {
		case <-exited:
			s.tb.Fatalf("redis-server on %s exited at start: see its log", s.Addr)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := c.Ping(ctx).Err()
		var rerr redis.Error
		if err == nil || errors.As(err, &rerr) && !strings.HasPrefix(err.Error(), "LOADING") {
			return nil
		}
		return err
	})
}

// Kill SIGKILLs the server: no shutdown, no final save.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// Signal sends sig to the running server (SIGSTOP, SIGCONT).
func (s *Server) Signal(sig syscall.Signal) {
	if s.cmd != nil {
		s.cmd.Process.Signal(sig)
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	// The kernel may hand out a port again once it is closed: two calls
	// in a row (a listener and its metrics) got the same one. A port is
	// given once per test binary.
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if _, dup := givenPorts.LoadOrStore(port, true); !dup {
			return port
		}
	}
	tb.Fatal("free port: every port the kernel offered was given before")
	return 0
}

// givenPorts are the ports FreePort gave.
var givenPorts sync.Map

// WaitUntil calls cond until it returns nil, failing tb with cond's last
// error after d.
func WaitUntil(tb testing.TB, d time.Duration, what string, cond func() error) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s: %v", d, what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitTCP(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s did not start", addr)
}

// SyncBuffer is a goroutine-safe writer for the logs and output that tests
// search.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of everything written.
func (b *SyncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// String returns everything written.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

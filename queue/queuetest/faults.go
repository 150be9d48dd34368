package queuetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Faults makes the commands of a client fail on demand, as a Redis that
// does not answer would: while a rule is set, every command whose
// arguments (printed together) the rule picks fails, and so does every
// pipeline holding one.
type Faults struct {
	rule atomic.Pointer[func(args string) bool]
}

// InjectFaults adds Faults to r.Client; none fail until FailWhen.
func (r *Redis) InjectFaults() *Faults {
	f := &Faults{}
	r.Client.AddHook(f)
	return f
}

// FailWhen sets the rule; nil lets every command through again.
func (f *Faults) FailWhen(rule func(args string) bool) {
	if rule == nil {
		f.rule.Store(nil)
		return
	}
	f.rule.Store(&rule)
}

// FailMatching fails every command naming something that contains s.
func (f *Faults) FailMatching(s string) {
	f.FailWhen(func(args string) bool { return strings.Contains(args, s) })
}

var errInjected = errors.New("dial tcp: connection refused (injected)")

func (f *Faults) fails(cmd redis.Cmder) bool {
	rule := f.rule.Load()
	return rule != nil && (*rule)(fmt.Sprint(cmd.Args()...))
}

// DialHook is redis.Hook's.
func (f *Faults) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook is redis.Hook's.
func (f *Faults) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if f.fails(cmd) {
			cmd.SetErr(errInjected)
			return errInjected
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook is redis.Hook's.
func (f *Faults) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if f.fails(c) {
				for _, c := range cmds {
					c.SetErr(errInjected)
				}
				return errInjected
			}
		}
		return next(ctx, cmds)
	}
}

// ClientVia returns a client of r's node (r.URL; the test is skipped
// without one) whose connections are made by dial: through a proxy the test
// can cut, or counting what they read. It does not retry, so that a cut
// shows at once. It is closed when the test ends.
func (r *Redis) ClientVia(tb testing.TB, dial func(ctx context.Context, network, addr string) (net.Conn, error)) redis.UniversalClient {
	tb.Helper()
	opt := r.nodeOptions(tb)
	opt.Dialer, opt.MaxRetries = dial, -1
	c := redis.NewClient(opt)
	tb.Cleanup(func() { c.Close() })
	return c
}

func (r *Redis) nodeOptions(tb testing.TB) *redis.Options {
	tb.Helper()
	if r.URL == "" {
		NeedSingleNode(tb, r.Kind)
	}
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		tb.Fatal(err)
	}
	return opt
}

// Proxy stands between a client and Redis; down, it refuses every
// connection and closes the open ones, as a Redis that does not answer.
type Proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

// ClientViaProxy returns a client of r's node (r.URL; the test is skipped
// without one) through a Proxy the test can take down. Connections time
// out after 200ms and commands are not retried, so that an outage shows at
// once.
func (r *Redis) ClientViaProxy(tb testing.TB) (redis.UniversalClient, *Proxy) {
	tb.Helper()
	target := r.nodeOptions(tb).Addr
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{ln: ln}
	tb.Cleanup(func() { ln.Close(); p.SetDown(true) })
	go p.relay(target)
	d := &net.Dialer{Timeout: 200 * time.Millisecond}
	c := r.ClientVia(tb, func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, ln.Addr().String())
	})
	return c, p
}

func (p *Proxy) relay(target string) {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		go func() { io.Copy(u, c); u.Close() }()
		go func() { io.Copy(c, u); c.Close() }()
	}
}

// SetDown takes the proxy down (every connection closed, new ones refused)
// or brings it back.
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// NeedSingleNode skips a test that needs one Redis node by URL when the
// suite runs on another kind; under CI=true, where every test must run,
// it fails instead.
func NeedSingleNode(tb testing.TB, kind string) {
	tb.Helper()
	msg := "needs a single Redis node by URL, not a " + kind
	if os.Getenv("CI") == "true" {
		tb.Fatal("CI=true: " + msg)
	}
	tb.Skip(msg)
}

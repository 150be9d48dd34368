package queue

import (
	"crypto/tls"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// A refused dial is retried briefly only: while Redis is down each tip
// makes a few calls before it reaches the spool, and go-redis's default
// (five tries, 100 ms apart) would add almost half a second to each.
const (
	dialRetries   = 2
	dialRetryWait = 50 * time.Millisecond
)

// Protocol is the RESP version the gateway speaks: 2. It uses no RESP3
// feature (no client-side caching, no push notifications), and with RESP3
// go-redis looks for a push notification before every reply, about 2% of
// the intake's CPU.
const Protocol = 2

// ClientOptions say how to reach Redis: one node (URL), a master managed
// by Sentinel, or a Cluster.
type ClientOptions struct {
	Mode               string // "" (one node), "sentinel" or "cluster"
	URL                string // redis:// URL of the one node
	Addrs              []string
	MasterName         string // with sentinel
	Username, Password string // override the URL's
	TLS                bool   // with sentinel or cluster; the URL says rediss://
	// Timeout bounds dialing, reading and writing, and each call.
	Timeout time.Duration
}

// NewClient builds the Redis client.
func NewClient(o ClientOptions) (redis.UniversalClient, error) {
	switch o.Mode {
	case "cluster", "sentinel":
		u := &redis.UniversalOptions{
			Addrs: o.Addrs, MasterName: o.MasterName, IsClusterMode: o.Mode == "cluster",
			Username: o.Username, Password: o.Password,
			DialTimeout: o.Timeout, ReadTimeout: o.Timeout, WriteTimeout: o.Timeout, ContextTimeoutEnabled: true,
			// CLIENT SETINFO is not in the ACL of deploy/redis/users.acl.
			DisableIdentity: true, DialerRetries: dialRetries, DialerRetryTimeout: dialRetryWait,
			Protocol: Protocol,
		}
		if o.TLS {
			u.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		return redis.NewUniversalClient(u), nil
	default:
		opt, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, errors.New("redis.url is not a valid redis:// URL")
		}
		if o.Password != "" {
			opt.Password = o.Password
		}
		if o.Username != "" {
			opt.Username = o.Username
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
		opt.ContextTimeoutEnabled = true
		opt.DisableIdentity = true
		opt.Protocol = Protocol
		opt.DialerRetries, opt.DialerRetryTimeout = dialRetries, dialRetryWait
		return redis.NewClient(opt), nil
	}
}

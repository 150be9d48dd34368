package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/ratelimit"
)

// guard protects the form from abuse without learning who uses it: a rate
// limit per network keyed by an HMAC of the /24 or /64 (never the address),
// a count of submissions from everyone together to tell a flood, and a
// proof-of-work challenge for while there is one.
//
// Each network (and the onion listener, as one) has two buckets: one for
// accepted requests, one, looser, for refused posts. Junk sent from a
// network (empty or malformed posts, failed proof of work) fills only the
// second, so it cannot lock out a witness on the same network; over that
// bucket the junk itself gets 429.
type guard struct {
	opt     Options
	buckets [2][2]*ratelimit.Limiter // [onion][bucket]
	powKey  []byte

	// In memory when there is no Redis (one instance, tests).
	mu     sync.Mutex
	counts map[int64]int64
	// lastCheckLog rate-limits the log of failing checks.
	lastCheckLog time.Time
	spent        map[string]time.Time
}

// guardTimeout bounds each Redis call of the guard: it must never hold up a
// witness for long, and it fails open (see allow).
const guardTimeout = time.Second

// powTTL is how long a challenge stays valid: a frightened witness may take
// a long time to write.
const powTTL = 2 * time.Hour

func newGuard(o Options) *guard {
	g := &guard{opt: o, counts: map[int64]int64{}, spent: map[string]time.Time{},
		// A key of its own for challenges, derived from the pepper so that
		// every gateway instance agrees on it.
		powKey: o.Keyer.Sum("web/pow-key", "v1")}
	// Shared through Redis by every gateway, falling back to memory while
	// Redis is down (ratelimit), and made without a call to Redis, so that
	// a gateway started during an outage still starts.
	for _, b := range []struct {
		onion  int
		bucket bucket
		name   string
		rate   Rate
	}{
		{0, bucketAccepted, "web", o.RateLimit},
		{0, bucketRefused, "web_refused", o.InvalidRateLimit},
		{1, bucketAccepted, "web_onion", o.OnionRateLimit},
		{1, bucketRefused, "web_onion_refused", o.OnionInvalidRateLimit},
	} {
		g.buckets[b.onion][b.bucket] = ratelimit.New(o.Redis, o.Prefix, b.name, b.rate.Count, b.rate.Period)
	}
	return g
}

// ErrRateLimited: the network (or the onion listener) is over its rate
// limit. ErrWorkNeeded: the form is flooded and the post carried no valid,
// unspent proof of work.
var (
	ErrRateLimited = fault.New(fault.RateLimited, "too many reports, try again later")
	ErrWorkNeeded  = fault.New(fault.RateLimited, "busy: send the form again in a moment")
)

// bucket is which of a network's two rate limits a request counts in.
type bucket int

const (
	bucketAccepted bucket = iota // reports and follow-up answers taken in
	bucketRefused                // posts refused as invalid, empty, not a photo or without the work; follow-up openings
)

// networkKey is the pseudonym of the client's network: the HMAC of its /24
// (IPv4) or /64 (IPv6) under the pepper. A whole household or office shares
// it, and no one can turn it back into an address.
func networkKey(k *pseudonym.Keyer, ip net.IP) string {
	if ip == nil {
		return "n:unknown"
	}
	var prefix string
	if v4 := ip.To4(); v4 != nil {
		prefix = v4.Mask(net.CIDRMask(24, 32)).String() + "/24"
	} else {
		prefix = ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return "n:" + k.Of(pseudonym.DomainNetwork, prefix)
}

// allow counts one request in bucket b of the client's network, or of the
// onion listener for requests that came through it. Redis trouble lets the
// request through: the intake behind it answers "not sent" on its own, and
// a witness must not be refused for our outage.
func (g *guard) allow(ctx context.Context, from Origin, b bucket) bool {
	ctx, cancel := context.WithTimeout(ctx, guardTimeout)
	defer cancel()
	l, key := g.bucket(from, b)
	return l.Allow(ctx, key)
}

// bucket is bucket b of the client's network, or of the onion listener,
// and its key.
func (g *guard) bucket(from Origin, b bucket) (*ratelimit.Limiter, string) {
	if from.Onion {
		return g.buckets[1][b], "onion"
	}
	return g.buckets[0][b], networkKey(g.opt.Keyer, from.IP)
}

// over reports whether bucket b of the client's network is spent, without
// counting: false when Redis does not answer (see allow).
func (g *guard) over(ctx context.Context, from Origin, b bucket) bool {
	ctx, cancel := context.WithTimeout(ctx, guardTimeout)
	defer cancel()
	l, key := g.bucket(from, b)
	return l.Over(ctx, key)
}

// countSubmission adds one to this minute's count of submissions.
func (g *guard) countSubmission(ctx context.Context) {
	minute := g.opt.Now().Unix() / 60
	if g.opt.Redis == nil {
		g.mu.Lock()
		g.counts[minute]++
		for m := range g.counts {
			if m < minute-1 {
				delete(g.counts, m)
			}
		}
		g.mu.Unlock()
		return
	}
	ctx, cancel := context.WithTimeout(ctx, guardTimeout)
	defer cancel()
	key := g.floodKey(minute)
	// One round trip, no transaction: a count whose EXPIRE was lost gets
	// it from the next submission of the minute (NX: only a key without
	// one).
	p := g.opt.Redis.Pipeline()
	p.Incr(ctx, key)
	p.ExpireNX(ctx, key, 3*time.Minute)
	if _, err := p.Exec(ctx); err != nil {
		g.opt.Logger.Warn("flood counter unavailable", "err", err)
	}
}

// The flood counters of all minutes share a hash tag, so that one MGET
// reads two of them on Redis Cluster too.
func (g *guard) floodKey(minute int64) string {
	return g.opt.Prefix + ":web:{flood}:" + strconv.FormatInt(minute, 10)
}

// powRequired says whether a submission needs proof of work right now.
func (g *guard) powRequired(ctx context.Context) bool {
	switch g.opt.PoW {
	case PoWAlways:
		return true
	case PoWFlood:
		return g.flooded(ctx)
	default:
		return false
	}
}

// flooded reports whether this or the last minute saw more than PoWFlood
// submissions.
func (g *guard) flooded(ctx context.Context) bool {
	minute := g.opt.Now().Unix() / 60
	var cur, prev int64
	if g.opt.Redis == nil {
		g.mu.Lock()
		cur, prev = g.counts[minute], g.counts[minute-1]
		g.mu.Unlock()
	} else {
		ctx, cancel := context.WithTimeout(ctx, guardTimeout)
		defer cancel()
		v, err := g.opt.Redis.MGet(ctx, g.floodKey(minute), g.floodKey(minute-1)).Result()
		if err != nil {
			// Unknown is a flood: the safe answer asks for the proof of work.
			g.checkFailed(CheckFlood, err)
			return true
		}
		cur, prev = toInt(v[0]), toInt(v[1])
	}
	return max(cur, prev) > int64(g.opt.PoWFlood)
}

func toInt(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// Challenge is what the form carries: a token the server signed, and how
// many leading zero bits SHA-256(token ":" nonce) must have.
type Challenge struct {
	Token string
	Bits  int
}

// Challenge tokens are stateless: base64url of issued (8 bytes, Unix
// seconds) | bits (1) | random (8) | HMAC-SHA256 of those, cut to 16 bytes.
const powPayload = 8 + 1 + 8

func (g *guard) newChallenge() *Challenge {
	b := make([]byte, powPayload, powPayload+16)
	binary.BigEndian.PutUint64(b, uint64(g.opt.Now().Unix()))
	b[8] = byte(g.opt.PoWBits)
	rand.Read(b[9:powPayload])
	b = append(b, g.mac(b)...)
	return &Challenge{Token: base64.RawURLEncoding.EncodeToString(b), Bits: g.opt.PoWBits}
}

func (g *guard) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, g.powKey)
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// checkChallenge accepts a challenge this server issued less than powTTL
// ago, once, if either the nonce does the work or (for browsers without
// JavaScript) the challenge is at least PoWWait old.
func (g *guard) checkChallenge(ctx context.Context, token, nonce string) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != powPayload+16 || !hmac.Equal(g.mac(b[:powPayload]), b[powPayload:]) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b)), 0)
	age := g.opt.Now().Sub(issued)
	if age < 0 || age > powTTL {
		return false
	}
	worked := false
	if len(nonce) > 0 && len(nonce) <= 20 {
		sum := sha256.Sum256([]byte(token + ":" + nonce))
		worked = leadingZeroBits(sum[:]) >= int(b[8])
	}
	if !worked && (g.opt.PoWWait <= 0 || age < g.opt.PoWWait) {
		return false
	}
	return g.spend(ctx, hex.EncodeToString(b[9:powPayload]), issued.Add(powTTL))
}

// spend marks a challenge used; it reports false for one used before, so a
// solved challenge cannot be replayed for a stream of submissions.
func (g *guard) spend(ctx context.Context, id string, until time.Time) bool {
	if g.opt.Redis == nil {
		g.mu.Lock()
		defer g.mu.Unlock()
		now := g.opt.Now()
		for k, t := range g.spent {
			if now.After(t) {
				delete(g.spent, k)
			}
		}
		if _, ok := g.spent[id]; ok {
			return false
		}
		g.spent[id] = until
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, guardTimeout)
	defer cancel()
	ok, err := g.opt.Redis.SetNX(ctx, g.opt.Prefix+":web:pow:"+id, 1, until.Sub(g.opt.Now())).Result()
	if err != nil {
		g.opt.Logger.Warn("challenge store unavailable", "err", err)
		return true // fail open, as the rate limit does
	}
	return ok
}

func leadingZeroBits(b []byte) int {
	n := 0
	for _, x := range b {
		if x != 0 {
			return n + bits.LeadingZeros8(x)
		}
		n += 8
	}
	return n
}

// checkFailLogEvery bounds how often a failing check is logged.
const checkFailLogEvery = time.Minute

// checkFailed counts a check of the guard that could not be made, and logs
// it at most once a minute (a Redis outage would otherwise log every post).
func (g *guard) checkFailed(check string, err error) {
	if g.opt.Metrics != nil {
		g.opt.Metrics.CheckFailedSafe(check)
	}
	now := time.Now()
	g.mu.Lock()
	last := g.lastCheckLog
	if now.Sub(last) >= checkFailLogEvery {
		g.lastCheckLog = now
	}
	g.mu.Unlock()
	if now.Sub(last) >= checkFailLogEvery {
		g.opt.Logger.Warn("web: check failed, answered the safe way", "check", check, "err", err)
	}
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/queue"
	"github.com/redis/go-redis/v9"
	twclient "github.com/twilio/twilio-go/client"
)

// helperCommand runs one of the comparison servers in a child process:
// hotline-load serve-helper -kind bare|reference ...
const helperCommand = "serve-helper"

// twimlReply is the answer both helpers give, the size of the gateway's.
const twimlReply = `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Received. Ref ABCD-EFGH</Message></Response>`

// helperMain serves until SIGTERM.
func helperMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(helperCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", "bare", "bare or reference")
	listen := fs.String("listen", "127.0.0.1:0", "address")
	publicURL := fs.String("public-url", "", "base URL signatures are checked against")
	tokenFile := fs.String("token-file", "", "file with the Twilio auth token")
	recipientsFile := fs.String("recipients-file", "", "file with one age recipient a line")
	redisURL := fs.String("redis", "", "Redis URL")
	stream := fs.String("stream", "", "the stream to XADD to")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var h http.Handler
	switch *kind {
	case "bare":
		h = http.HandlerFunc(bareHandler)
	case "reference":
		ref, err := newReference(*publicURL, *tokenFile, *recipientsFile, *redisURL, *stream)
		if err != nil {
			fmt.Fprintf(stderr, "serve-helper: %v\n", err)
			return 1
		}
		h = ref
	default:
		fmt.Fprintf(stderr, "serve-helper: unknown kind %q\n", *kind)
		return 2
	}
	// The same server timeouts as the gateway's.
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 20 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "serve-helper: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return 0
}

// bareHandler is the floor: read the request, answer 200 with TwiML.
func bareHandler(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		io.WriteString(w, "ok\n")
		return
	}
	io.Copy(io.Discard, io.LimitReader(r.Body, 64<<10))
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, twimlReply)
}

// reference is the minimal pipeline the gateway is compared with: check the
// Twilio signature (with twilio-go, as the gateway does), seal the message
// with upstream age's recipients (seal's default) to the same recipients,
// XADD it, answer with TwiML.
type reference struct {
	publicURL  string
	validator  twclient.RequestValidator
	recipients *seal.Recipients
	rdb        *redis.Client
	stream     string
}

func newReference(publicURL, tokenFile, recipientsFile, redisURL, stream string) (*reference, error) {
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, err
	}
	rs, err := readRecipients(recipientsFile)
	if err != nil {
		return nil, err
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, err
	}
	opt.ReadTimeout, opt.WriteTimeout = 2*time.Second, 2*time.Second
	// The gateway's protocol (queue.Protocol): the comparison is of the
	// pipelines, not of a client setting.
	opt.Protocol = queue.Protocol
	return &reference{
		publicURL: strings.TrimRight(publicURL, "/"), validator: twclient.NewRequestValidator(strings.TrimSpace(string(token))),
		recipients: rs, rdb: redis.NewClient(opt), stream: stream,
	}, nil
}

// readRecipients reads a recipients file: one a line, blank lines and
// # comments skipped, as age -R reads it.
func readRecipients(path string) (*seal.Recipients, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return seal.ParseRecipients(lines)
}

func (ref *reference) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		io.WriteString(w, "ok\n")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	params := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		params[k] = v[0]
	}
	if !ref.validator.Validate(ref.publicURL+r.URL.RequestURI(), params, r.Header.Get("X-Twilio-Signature")) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	plaintext, _ := json.Marshal(map[string]string{
		"text": r.PostForm.Get("Body"), "from": r.PostForm.Get("From"), "to": r.PostForm.Get("To"),
		"sid": r.PostForm.Get("MessageSid"), "received": time.Now().UTC().Format(time.RFC3339Nano),
	})
	sealed, err := ref.recipients.Seal(plaintext)
	if err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	id := make([]byte, 16)
	rand.Read(id)
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err = ref.rdb.XAdd(ctx, &redis.XAddArgs{Stream: ref.stream, Values: []any{
		"tip", hex.EncodeToString(id), "channel", "sms", "sealed", sealed,
	}}).Err()
	if err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, twimlReply)
}

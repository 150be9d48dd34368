package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hotline-org/hotline/cmd/internal/demo"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/handlers/server"
	"github.com/hotline-org/hotline/queue/officer"
	"github.com/redis/go-redis/v9"
)

// parseConfigOnly parses the arguments of a verb whose one flag is the
// required --config and returns its value.
func parseConfigOnly(e *env, verb string, args []string) (string, error) {
	fs := e.newFlags(verb, verb+" --config FILE")
	cfgPath := fs.String("config", "", "the configuration `file`")
	if err := parseNeeding(fs, args, cfgPath); err != nil {
		return "", err
	}
	return *cfgPath, nil
}

func cmdServe(e *env, args []string) error {
	cfgPath, err := parseConfigOnly(e, "serve", args)
	if err != nil {
		return err
	}
	c, err := config.Load(cfgPath)
	if err != nil {
		return fmt.Errorf("%w\nhint: run `hotline check-config --config %s`", err, cfgPath)
	}
	parts, log, stop, err := startGateway(e, c)
	if err != nil {
		return err
	}
	defer stop(nil)
	return server.ServeWithOnion(e.ctx, c.Listen, c.Web.OnionListen, parts.handler, log)
}

// startGateway wires and starts the gateway of config c. stop stops it,
// then runs last (if not nil) while Redis is still open.
func startGateway(e *env, c *config.Config) (parts *gatewayParts, log *slog.Logger, stop func(last func(redis.UniversalClient)), err error) {
	log, logDone := newServeLogger(e.stderr, c.Log.Format, c.Log.Level)
	defer func() {
		if err != nil {
			logDone()
		}
	}()
	redis.SetLogger(redisLogger{log})
	rdb, err := newRedis(c)
	if err != nil {
		return nil, nil, nil, err
	}
	// The web form gets a connection pool of its own: see wireWith.
	formRDB, err := newRedis(c)
	if err != nil {
		rdb.Close()
		return nil, nil, nil, err
	}
	closeAll := func() {
		formRDB.Close()
		rdb.Close()
	}
	if parts, err = wireWith(e.ctx, c, rdb, formRDB, log); err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	stopParts, err := parts.start(e.ctx, log)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	return parts, log, func(last func(redis.UniversalClient)) {
		stopParts()
		if last != nil {
			last(rdb)
		}
		closeAll()
		logDone()
	}, nil
}

// cmdProbe checks a running gateway's readiness, for container health
// checks in images that have no shell or curl.
// probeJSON is what `probe --json` prints.
type probeJSON struct {
	Ready bool   `json:"ready"`
	URL   string `json:"url"`
}

func cmdProbe(e *env, args []string) error {
	fs := e.newFlags("probe", "probe --config FILE | --url URL [--json]")
	cfgPath := fs.String("config", "", "the configuration `file` (probes its listen address)")
	target := fs.String("url", "", "the `URL` to probe (default http://LISTEN/readyz)")
	asJSON := fs.Bool("json", false, `print {"ready": true, "url"} (not ready is an error, exit 1)`)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *target == "" {
		if *cfgPath == "" {
			fs.Usage()
			return errUsage
		}
		c, err := config.Load(*cfgPath)
		if c == nil {
			return err
		}
		*target = "http://" + c.Listen + "/readyz"
	}
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get(*target)
	if err != nil {
		return &exitError{code: 1, err: errors.New("not reachable")}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &exitError{code: 1, err: fmt.Errorf("not ready (%d)", resp.StatusCode)}
	}
	if *asJSON {
		return writeJSON(e.stdout, probeJSON{Ready: true, URL: *target}, false)
	}
	fmt.Fprintln(e.stdout, "ready")
	return nil
}

// cmdDemo runs a complete gateway on throwaway keys, for a first look.
func cmdDemo(e *env, args []string) error {
	fs := e.newFlags("demo", "demo [--listen ADDR]")
	listenAddr := fs.String("listen", "127.0.0.1:8080", "the `address` to serve on")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	d, err := demo.New(e.ctx, *listenAddr, e.getenv, e.stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	c, err := config.Load(d.ConfigPath)
	if err != nil {
		return err
	}
	parts, log, stop, err := startGateway(e, c)
	if err != nil {
		return err
	}
	defer stop(d.DeleteKeys)
	token, _, err := officer.New(parts.queue).Add(e.ctx, "pe-lima", "Demo Officer", "officer")
	if err != nil {
		return fmt.Errorf("failed to create the demo officer: %w", err)
	}
	self := selfCommand()
	return server.Serve(e.ctx, c.Listen, parts.handler, log, func(addr string) {
		fmt.Fprintf(e.stdout, `
hotline demo: serving on http://%[1]s (configuration and throwaway keys in %[2]s)

1. Text the hotline as a victim would (a request signed the way Twilio signs it):

   %[3]s simulate sms --config %[4]s --from +51987654321 \
     --body "Nos tienen encerrados en una casa en La Molina, -12.0857, -76.9397. Somos 40."

2. Claim the tip and decrypt it on the officer's side (the gateway cannot):

   %[3]s triage next --server http://%[1]s --token %[5]s --identity %[6]s

   A witness would use the web form instead: http://%[1]s/report

3. Close it:

   %[3]s triage ack TIP-ID --disposition dispatched --server http://%[1]s --token %[5]s

Press Ctrl-C to stop; the demo directory is deleted on exit.
`, addr, d.Dir, self, d.ConfigPath, token, d.Identity)
	})
}

// selfCommand is how the printed commands should call this program.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil || strings.Contains(exe, "go-build") {
		return "go run ./cmd/hotline"
	}
	return exe
}

// keygenJSON is what `keygen --json` prints; never the identity.
type keygenJSON struct {
	Recipient string `json:"recipient"`
	Kind      string `json:"kind"`
	File      string `json:"file"`
}

func cmdKeygen(e *env, args []string) error {
	fs := e.newFlags("keygen", "keygen [--x25519] --out FILE|- [--json]")
	x25519 := fs.Bool("x25519", false, "make a classic X25519 identity instead of a post-quantum hybrid one (for hardware plugins)")
	out := fs.String("out", "", "write the identity to this `file` (created with mode 0600; never overwritten); - writes it to standard output and the recipient to standard error")
	asJSON := fs.Bool("json", false, `print {"recipient", "kind", "file"} instead of the bare recipient (not with --out -)`)
	if err := parseNeeding(fs, args, out); err != nil {
		return err
	}
	if *out == "-" && *asJSON {
		return &exitError{code: 2, err: errors.New("--json and --out - both want standard output: choose one\nhint: hotline keygen --out FILE --json")}
	}
	if *out != "-" {
		if _, err := os.Lstat(*out); err == nil {
			return fmt.Errorf("%s already exists; nothing was written (an identity is never overwritten)\nhint: choose another --out file", *out)
		}
	}
	g, err := seal.Generate(*x25519)
	if err != nil {
		return err
	}
	if *out == "-" {
		if err := seal.WriteIdentity(e.stdout, g, time.Now()); err != nil {
			return fmt.Errorf("failed to write the identity to standard output: %w", err)
		}
		fmt.Fprintf(e.stderr, "hotline: wrote a %s identity to standard output; keep it offline and give only its recipient to the gateway's operator:\n%s\n", g.Kind, g.Recipient)
		return nil
	}
	if err := seal.WriteIdentityFile(*out, g, time.Now()); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, keygenJSON{g.Recipient, string(g.Kind), *out}, false)
	}
	fmt.Fprintf(e.stderr, "hotline: wrote a %s identity to %s; keep it offline and give only the recipient below to the gateway's operator\n", g.Kind, *out)
	fmt.Fprintln(e.stdout, g.Recipient)
	return nil
}

// checkProblem is one problem of `check-config --json`.
type checkProblem struct {
	Level   string `json:"level"` // error or warning
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// checkJSON is what `check-config --json` prints (exit 1 when ok is false).
type checkJSON struct {
	OK       bool           `json:"ok"`
	Problems []checkProblem `json:"problems"`
}

func cmdCheckConfig(e *env, args []string) error {
	fs := e.newFlags("check-config", "check-config --config FILE [--json]")
	cfgPath := fs.String("config", "", "the configuration `file`")
	asJSON := fs.Bool("json", false, `print {"ok", "problems": [{"level", "field", "message", "fix"}]}`)
	if err := parseNeeding(fs, args, cfgPath); err != nil {
		return err
	}
	c, err := config.Load(*cfgPath)
	if c == nil {
		return &exitError{code: 1, err: err}
	}
	report := checkJSON{OK: true, Problems: []checkProblem{}}
	var text []string
	add := func(p checkProblem, line string) {
		report.Problems = append(report.Problems, p)
		report.OK = report.OK && p.Level != "error"
		text = append(text, line)
	}
	if err != nil {
		for _, line := range splitJoined(err) {
			add(checkProblem{Level: "error", Message: line}, "error: "+line)
		}
	}
	for _, p := range c.Validate() {
		level := "error"
		if p.Warning {
			level = "warning"
		}
		add(checkProblem{Level: level, Field: p.Field, Message: p.Message, Fix: p.Fix}, p.String())
	}
	ix, _, err := loadRegions(c)
	if err != nil {
		for _, line := range splitJoined(err) {
			add(checkProblem{Level: "error", Field: "regions", Message: line}, "error: regions: "+line)
		}
	}
	if ix != nil {
		for _, w := range ix.Warnings() {
			add(checkProblem{Level: "warning", Field: "regions", Message: w}, "warning: regions: "+w)
		}
	}
	if *asJSON {
		if err := writeJSON(e.stdout, report, false); err != nil {
			return err
		}
	} else {
		for _, line := range text {
			fmt.Fprintln(e.stdout, line)
		}
	}
	if !report.OK {
		if *asJSON {
			return &exitError{code: 1}
		}
		return &exitError{code: 1, err: errors.New("the configuration has errors")}
	}
	if !*asJSON {
		fmt.Fprintln(e.stdout, "ok")
	}
	return nil
}

// splitJoined lists the errors inside an errors.Join.
func splitJoined(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, splitJoined(e)...)
		}
		return out
	}
	return []string{err.Error()}
}

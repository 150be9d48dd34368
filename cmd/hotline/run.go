package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/hotline-org/hotline/cmd/internal/termsafe"
)

const usage = `hotline: an anonymous, sealed tip line

usage:
  hotline serve --config FILE                 run the gateway
  hotline demo [--listen ADDR]                run a throwaway demo (make run)
  hotline check-config --config FILE          list every problem in a config
  hotline keygen [--x25519] --out FILE|-      make an agency identity; prints its recipient
  hotline officer add --config FILE --agency ID --name NAME [--role officer|supervisor] [--json]
  hotline officer list --config FILE [--agency ID] [--json]
  hotline officer revoke --config FILE --id ID
  hotline audit verify --config FILE --agency ID    check an agency's audit chain
  hotline triage next|list|show|ack|release|renew|escalate|transfer|note|reply|watch [ID]
                 --server URL --token TOKEN [--identity FILE] [--json]
  hotline console --server URL --token TOKEN --identity FILE [--listen 127.0.0.1:0] [--no-browser]
                 the officer's console in a browser of this machine (tips opened here)
  hotline probe --config FILE                 exit 0 when the gateway is ready (for health checks)
  hotline simulate sms --config FILE --body TEXT [--from NUMBER] [--whatsapp]
  hotline simulate call|recording --config FILE [...]   ring the voice webhooks as Twilio would

hotline help COMMAND [VERB] (or COMMAND [VERB] --help) shows a command's flags;
--json prints JSON (README, "JSON output"); hotline --version.

environment: REDIS_URL, TWILIO_AUTH_TOKEN, HOTLINE_PEPPER override the config;
HOTLINE_SERVER, HOTLINE_TOKEN, HOTLINE_IDENTITY are defaults for triage and console.
`

// env is what a command sees of the process, so that tests can swap it.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// flagOut is where a command's usage goes: stdout when help was
	// asked for (it is the answer), stderr when the command line was wrong.
	flagOut io.Writer
	getenv  func(string) string
}

// errUsage means the command line was wrong; usage has been printed.
var errUsage = errors.New("usage")

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, flagOut: stderr, getenv: os.Getenv}
	if len(args) > 1 && args[0] == "help" {
		// hotline help triage next is hotline triage next --help.
		args = append(slices.Clone(args[1:]), "--help")
	}
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" || args[0] == "version" {
		fmt.Fprintln(stdout, "hotline", version())
		return 0
	}
	if slices.ContainsFunc(args[1:], isHelp) {
		e.flagOut = stdout
	}
	commands := map[string]func(*env, []string) error{
		"serve":        cmdServe,
		"demo":         cmdDemo,
		"check-config": cmdCheckConfig,
		"keygen":       cmdKeygen,
		"officer":      cmdOfficer,
		"triage":       cmdTriage,
		"console":      cmdConsole,
		"simulate":     cmdSimulate,
		"audit":        cmdAudit,
		"probe":        cmdProbe,
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "hotline: unknown command %q\n%s", args[0], usage)
		return 2
	}
	err := cmd(e, args[1:])
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0 // the usage asked for has been printed
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(stderr, "hotline: %s\n", visibleMessage(ee.err))
		}
		return ee.code
	default:
		fmt.Fprintf(stderr, "hotline: %s\n", visibleMessage(err))
		return 1
	}
}

// newFlags returns a flag set that prints its usage to the command's stderr.
func (e *env) newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.flagOut)
	fs.Usage = func() {
		fmt.Fprintf(e.flagOut, "usage: hotline %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// isHelp reports whether a command-line word asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

// verb checks the verb of a command with verbs (officer add, triage next):
// none is a usage error; help prints the usage on stdout and is answered
// (flag.ErrHelp, exit 0).
func (e *env) verb(args []string, synopsis string) error {
	switch {
	case len(args) == 0:
		fmt.Fprintln(e.stderr, "usage: hotline "+synopsis)
		return errUsage
	case isHelp(args[0]):
		fmt.Fprintln(e.stdout, "usage: hotline "+synopsis)
		return flag.ErrHelp
	}
	return nil
}

// version is the module's version, or the commit it was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	for _, kv := range bi.Settings {
		if kv.Key == "vcs.revision" && (v == "" || v == "(devel)") {
			v = "(devel) " + kv.Value
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v + " " + bi.GoVersion
}

// parse parses flags, allowing them after positional arguments too
// ("triage ack ID --disposition dispatched").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, flag.ErrHelp
			}
			return nil, errUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseNeeding parses flags and fails with the usage when one of the
// required flags is empty.
func parseNeeding(fs *flag.FlagSet, args []string, required ...*string) error {
	if _, err := parse(fs, args); err != nil {
		return err
	}
	for _, v := range required {
		if *v == "" {
			fs.Usage()
			return errUsage
		}
	}
	return nil
}

// orEnv returns v, or the environment variable name if v is empty.
func (e *env) orEnv(v, name string) string {
	if v != "" {
		return v
	}
	return strings.TrimSpace(e.getenv(name))
}

// Every human-readable output of the CLI goes through these (see package
// termsafe): a report, a note or an answer of the gateway can never act on
// the officer's terminal. JSON output goes through writeJSON.
func visible(s string) string                         { return termsafe.String(s) }
func visibleMessage(err error) string                 { return termsafe.Message(err) }
func writeJSON(w io.Writer, v any, indent bool) error { return termsafe.JSON(w, v, indent) }

package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

type instruction struct {
	cmd  string // upper case
	args string
}

type stage struct {
	from  string // the FROM line's arguments
	insts []instruction
}

// parseDockerfile splits a Dockerfile into stages, joining continued lines and dropping comments.
func parseDockerfile(b []byte) []stage {
	var stages []stage
	var logical strings.Builder
	flush := func() {
		line := strings.TrimSpace(logical.String())
		logical.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		cmd = strings.ToUpper(cmd)
		args = strings.TrimSpace(args)
		if cmd == "FROM" {
			stages = append(stages, stage{from: args})
			return
		}
		if len(stages) == 0 {
			return // ARG before FROM
		}
		s := &stages[len(stages)-1]
		s.insts = append(s.insts, instruction{cmd, args})
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			logical.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		logical.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.insts {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

func (s stage) last(cmd string) (string, bool) {
	all := s.all(cmd)
	if len(all) == 0 {
		return "", false
	}
	return all[len(all)-1], true
}

// execForm decodes a JSON exec-form argument list; nil if it is shell form.
func execForm(args string) []string {
	var out []string
	if json.Unmarshal([]byte(args), &out) != nil {
		return nil
	}
	return out
}

var numericNonRootUser = regexp.MustCompile(`^([1-9][0-9]*)(:[0-9]+)?$`)

func checkDockerfile(fsys files) []string {
	stages := parseDockerfile(fsys["Dockerfile"])
	if len(stages) < 2 {
		return []string{"Dockerfile: want a multi-stage build (builder and final image)"}
	}
	build, final := stages[0], stages[len(stages)-1]
	var runs strings.Builder
	for _, r := range build.all("RUN") {
		runs.WriteString(r + "\n")
	}
	type rule struct {
		what string
		ok   bool
	}
	user, _ := final.last("USER")
	entry, _ := final.last("ENTRYPOINT")
	cmd, _ := final.last("CMD")
	health, hasHealth := final.last("HEALTHCHECK")
	rules := []rule{
		{"builder stage FROM golang:1.26", strings.HasPrefix(build.from, "golang:1.26")},
		{"builder builds with CGO_ENABLED=0", strings.Contains(runs.String(), "CGO_ENABLED=0 go build")},
		{"builder builds with -trimpath", strings.Contains(runs.String(), "-trimpath")},
		{`builder strips with -ldflags="-s -w"`, strings.Contains(runs.String(), `-ldflags="-s -w"`)},
		{"builder builds ./cmd/hotline", strings.Contains(runs.String(), "./cmd/hotline")},
		{"final stage FROM distroless static or scratch (no shell)",
			strings.HasPrefix(final.from, "gcr.io/distroless/static") || final.from == "scratch"},
		{"no RUN in the final stage (it would need a shell)", len(final.all("RUN")) == 0},
		{"no SHELL in the final stage", len(final.all("SHELL")) == 0},
		{"final USER is a numeric, non-root uid", numericNonRootUser.MatchString(user)},
		{`ENTRYPOINT ["/hotline"]`, slices.Equal(execForm(entry), []string{"/hotline"})},
		{`CMD ["serve", "--config", "/etc/hotline/hotline.yaml"]`,
			slices.Equal(execForm(cmd), []string{"serve", "--config", "/etc/hotline/hotline.yaml"})},
		{"no HEALTHCHECK command (the image has nothing to run it with)", !hasHealth || health == "NONE"},
	}
	var ps []string
	for _, r := range rules {
		if !r.ok {
			ps = append(ps, "Dockerfile: want "+r.what)
		}
	}
	return ps
}

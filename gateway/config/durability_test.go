package config_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/gateway/config"
)

func TestSpoolAndMetricsDefaults(t *testing.T) {
	c := parseValid(t)
	if c.Spool.MaxBytes != config.DefaultSpoolMaxBytes || c.Metrics.Listen != "" || c.Metrics.OnMainListener {
		t.Fatalf("defaults: spool %+v, metrics %+v", c.Spool, c.Metrics)
	}
	if ps := c.Validate().Errors(); len(ps) != 0 {
		t.Fatalf("valid.yaml: %s", problemsText(ps))
	}
	for _, tc := range []struct {
		name string
		env  env
		want string
	}{
		{"systemd", env{"STATE_DIRECTORY": "/var/lib/hotline:/var/lib/other", "HOME": "/home/x"}, "/var/lib/hotline/spool"},
		{"xdg", env{"XDG_STATE_HOME": "/home/x/.state", "HOME": "/home/x"}, "/home/x/.state/hotline/spool"},
		{"home", env{"HOME": "/home/x"}, "/home/x/.local/state/hotline/spool"},
		{"relative ignored", env{"XDG_STATE_HOME": "rel", "HOME": "also-rel"}, ""},
		{"none", env{}, ""},
	} {
		if got := c.SpoolDir(tc.env.get); got != tc.want {
			t.Errorf("%s: spool dir %q, want %q", tc.name, got, tc.want)
		}
	}
	c.Spool.Dir = "spool"
	if got := c.SpoolDir(env{"STATE_DIRECTORY": "/x"}.get); got != filepath.Join(testdataDir(t), "spool") {
		t.Errorf("spool.dir relative to the config: %q", got)
	}
}

func TestSpoolAndMetricsFromYAML(t *testing.T) {
	data := string(readFixture(t, "valid.yaml")) + `
spool:
  dir: /srv/hotline/spool
  max_bytes: 1073741824
metrics:
  listen: 127.0.0.1:9090
  on_main_listener: true
`
	c, err := config.Parse([]byte(data), testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get)
	if err != nil {
		t.Fatal(err)
	}
	if c.Spool.Dir != "/srv/hotline/spool" || c.Spool.MaxBytes != 1<<30 || c.Metrics.Listen != "127.0.0.1:9090" || !c.Metrics.OnMainListener {
		t.Fatalf("spool %+v, metrics %+v", c.Spool, c.Metrics)
	}
	if _, err := config.Parse([]byte(string(readFixture(t, "valid.yaml"))+"spool:\n  size: 5\n"), testdataDir(t), env{}.get); err == nil ||
		!strings.Contains(err.Error(), "size") {
		t.Fatalf("unknown key under spool: %v", err)
	}
}

func TestValidateSpoolAndMetrics(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*config.Config)
		field string
	}{
		{"tiny spool", func(c *config.Config) { c.Spool.MaxBytes = 4096 }, "spool.max_bytes"},
		{"negative spool", func(c *config.Config) { c.Spool.MaxBytes = -1 }, "spool.max_bytes"},
		{"metrics not an address", func(c *config.Config) { c.Metrics.Listen = "9090" }, "metrics.listen"},
		{"metrics on the public address", func(c *config.Config) { c.Metrics.Listen = c.Listen }, "metrics.listen"},
	} {
		c := parseValid(t)
		tc.edit(c)
		text := problemsText(c.Validate().Errors())
		if !strings.Contains(text, "error: "+tc.field+":") || !strings.Contains(text, "hint:") {
			t.Errorf("%s: problems\n%s", tc.name, text)
		}
	}
}

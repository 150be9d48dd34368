package config

import (
	"fmt"
	"net/url"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
)

// Defaults of the triage workflow.
const (
	// DefaultRetention keeps a closed tip long enough for follow-up work
	// and review, and no longer: what is not kept cannot be seized.
	DefaultRetention         = 30 * 24 * time.Hour
	DefaultRetentionInterval = time.Hour
	// DefaultPageAfter: an urgent tip unclaimed for two minutes wakes the
	// on-call officers; ten minutes, their supervisor.
	DefaultPageAfter           = 2 * time.Minute
	DefaultPageSupervisorAfter = 10 * time.Minute
	DefaultPageInterval        = 30 * time.Second
)

// Retention says when closed tips are deleted.
type Retention struct {
	// Closed is how long an acknowledged tip, its notes and its reply
	// handles are kept; the audit chain keeps only the tip's id after.
	Closed   time.Duration `yaml:"closed" json:"closed"`
	Interval time.Duration `yaml:"interval" json:"interval"`
}

// Paging says when the on-call officers are woken for an urgent tip.
type Paging struct {
	After           time.Duration `yaml:"after" json:"after"`
	SupervisorAfter time.Duration `yaml:"supervisor_after" json:"supervisor_after"`
	Interval        time.Duration `yaml:"interval" json:"interval"`
	// From is the hotline number pages are sent from (default: the first
	// configured number).
	From string `yaml:"from" json:"from,omitempty"`
}

// PagingTarget is who is paged: phones by SMS, and/or a webhook.
type PagingTarget struct {
	SMS     []string `yaml:"sms" json:"sms,omitempty"`
	Webhook string   `yaml:"webhook" json:"webhook,omitempty"`
}

func (c *Config) applyTriageDefaults() {
	orDefault(&c.Retention.Closed, DefaultRetention)
	orDefault(&c.Retention.Interval, DefaultRetentionInterval)
	orDefault(&c.Paging.After, DefaultPageAfter)
	orDefault(&c.Paging.SupervisorAfter, DefaultPageSupervisorAfter)
	orDefault(&c.Paging.Interval, DefaultPageInterval)
}

func (c *Config) validateTriage(add, warn func(string, string, string)) {
	if c.Retention.Closed < time.Hour {
		add("retention.closed", "shorter than an hour", "use a duration such as 720h (30 days)")
	}
	if c.Retention.Interval < time.Minute {
		add("retention.interval", "shorter than a minute", "use a duration such as 1h")
	}
	if c.Paging.After < 0 || c.Paging.SupervisorAfter < c.Paging.After {
		add("paging.supervisor_after", "must not come before paging.after", "e.g. after: 2m, supervisor_after: 10m")
	}
	if c.Paging.Interval < time.Second {
		add("paging.interval", "shorter than a second", "use a duration such as 30s")
	}
	pagesBySMS := false
	for _, a := range c.Agencies {
		for level, t := range map[string]PagingTarget{"oncall": a.OnCall, "supervisor": a.Supervisor} {
			field := "agencies." + a.ID + "." + level
			for _, n := range t.SMS {
				pagesBySMS = true
				if e, err := pseudonym.NormalizeE164(n); err != nil || e != n {
					add(field+".sms", "not a number in E.164 form", "write it as +51987654321")
				}
			}
			if t.Webhook != "" {
				u, err := url.Parse(t.Webhook)
				switch {
				case err != nil || u.Host == "":
					add(field+".webhook", "not an absolute URL", "write it as https://pager.example.org/hook")
				case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
					add(field+".webhook", "must be https", "pages travel over the internet; use TLS")
				}
			}
		}
	}
	if pagesBySMS && c.Paging.From == "" && len(c.Twilio.Numbers) == 0 {
		add("paging.from", "paging by SMS needs a number to send from", "set paging.from or list a number under twilio.numbers")
	}
	if c.Paging.From != "" {
		if _, ok := c.Twilio.Numbers[c.Paging.From]; !ok {
			warn("paging.from", fmt.Sprintf("%s is not one of twilio.numbers", c.Paging.From), "pages should come from a number the hotline owns")
		}
	}
}

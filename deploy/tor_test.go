package deploy_test

import (
	"fmt"
	"strings"
)

func checkTorDockerfile(fsys files) []string {
	stages := parseDockerfile(fsys["tor/Dockerfile"])
	if len(stages) == 0 {
		return []string{"tor/Dockerfile: no FROM"}
	}
	user, ok := stages[len(stages)-1].last("USER")
	name, _, _ := strings.Cut(user, ":")
	if !ok || name == "root" || name == "0" {
		return []string{"tor/Dockerfile: want a non-root USER in the final stage"}
	}
	return nil
}
func checkTorrc(fsys files) []string {
	d := parseRedisConf(fsys["tor/torrc"]) // same "Key value" shape
	var ps []string
	for _, w := range []struct{ key, value string }{
		{"socksport", "0"},
		{"controlport", "0"},
		{"hiddenservicedir", "/var/lib/tor/hotline"},
		{"hiddenserviceversion", "3"},
		{"hiddenserviceport", "80 proxy:8081"},
		{"safelogging", "1"},
	} {
		if got := d[w.key]; len(got) != 1 || got[0] != w.value {
			ps = append(ps, fmt.Sprintf("tor/torrc: want %s %s, got %q", w.key, w.value, got))
		}
	}
	return ps
}

package deploy_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

var gatewayServices = []string{"hotline-1", "hotline-2"}

// Environment variables that hold secrets: never a literal value in compose or Kubernetes.
var secretEnv = regexp.MustCompile(`(?i)(PEPPER|TOKEN|PASSWORD|SECRET|REDIS_URL|_KEY$)`)

func checkCompose(fsys files) []string {
	var ps []string
	add := func(format string, a ...any) { ps = append(ps, "compose.yaml: "+fmt.Sprintf(format, a...)) }
	docs, err := yamlDocs(fsys["compose.yaml"])
	if err != nil || len(docs) != 1 {
		return []string{fmt.Sprintf("compose.yaml: want one YAML document: %v", err)}
	}
	c := docs[0]
	services, _ := get(c, "services").(map[string]any)
	for _, g := range gatewayServices {
		if services[g] == nil {
			add("want gateway service %s (two gateways behind the proxy)", g)
		}
	}
	for name, s := range services {
		// Table of settings every service must carry.
		rules := []struct {
			what string
			ok   bool
		}{
			{"read_only: true", get(s, "read_only") == true},
			{"cap_drop: [ALL]", slices.Contains(strs(get(s, "cap_drop")), "ALL")},
			{"security_opt no-new-privileges:true", slices.Contains(strs(get(s, "security_opt")), "no-new-privileges:true")},
		}
		for _, r := range rules {
			if !r.ok {
				add("service %s: want %s", name, r.what)
			}
		}
		for _, capName := range strs(get(s, "cap_add")) {
			if capName != "NET_BIND_SERVICE" || get(s, "ports") == nil {
				add("service %s: cap_add %s: only the proxy may add NET_BIND_SERVICE", name, capName)
			}
		}
		if ports := list(get(s, "ports")); len(ports) > 0 && name != "proxy" {
			add("service %s publishes ports %v: only the proxy may", name, ports)
		}
		env := map[string]string{}
		switch e := get(s, "environment").(type) {
		case map[string]any:
			for k, v := range e {
				env[k] = str(v)
			}
		case []any:
			for _, kv := range e {
				k, v, _ := strings.Cut(str(kv), "=")
				env[k] = v
			}
		}
		for k, v := range env {
			if secretEnv.MatchString(k) && v != "" && !strings.HasPrefix(v, "${") {
				add("service %s: environment %s has a literal value: use docker secrets or env_file", name, k)
			}
		}
	}
	for _, g := range gatewayServices {
		s := services[g]
		if s == nil {
			continue
		}
		if !numericNonRootUser.MatchString(str(get(s, "user"))) {
			add("service %s: want a numeric non-root user", g)
		}
		if str(get(s, "build", "dockerfile")) != "deploy/Dockerfile" {
			add("service %s: want build.dockerfile deploy/Dockerfile", g)
		}
		sec := strs(get(s, "secrets"))
		for _, want := range []string{"hotline_pepper", "twilio_auth_token"} {
			if !slices.Contains(sec, want) {
				add("service %s: want docker secret %s", g, want)
			}
		}
	}
	for name, v := range asMap(get(c, "secrets")) {
		if str(get(v, "file")) == "" {
			add("secret %s: want a file: source", name)
		}
	}
	redis := services["redis"]
	if redis == nil {
		return append(ps, "compose.yaml: want a service redis")
	}
	if get(redis, "ports") != nil {
		add("redis must not publish a port")
	}
	if get(redis, "healthcheck") == nil {
		add("redis: want a healthcheck (the gateways wait for it)")
	}
	cmd := strs(get(redis, "command"))
	if len(cmd) != 2 || cmd[0] != "redis-server" {
		add("redis: want command [redis-server, CONFIG] with no overriding flags, got %v", cmd)
	}
	confTarget := ""
	if len(cmd) == 2 {
		confTarget = cmd[1]
	}
	mounted := map[string]string{} // target -> source
	for _, v := range list(get(redis, "volumes")) {
		mounted[str(get(v, "target"))] = str(get(v, "source"))
	}
	src := strings.TrimPrefix(mounted[confTarget], "./")
	if conf, ok := fsys[src]; !ok {
		add("redis: the config %s is not mounted from a file in deploy/", confTarget)
	} else {
		d := parseRedisConf(conf)
		if last(d["appendonly"]) != "yes" || last(d["appendfsync"]) != "everysec" {
			add("redis: the mounted %s must set appendonly yes and appendfsync everysec", src)
		}
		// The live ACL file carries a password hash, so it is made from the template in
		// redis/users.acl and kept under secrets/, which git ignores.
		if aclTarget := last(d["aclfile"]); mounted[aclTarget] != "./secrets/users.acl" {
			add("redis: mount the aclfile %s from ./secrets/users.acl (made from redis/users.acl)", aclTarget)
		}
	}
	networks := asMap(get(c, "networks"))
	for _, n := range strs(get(redis, "networks")) {
		if get(networks[n], "internal") != true {
			add("redis: network %s must be internal: true", n)
		}
	}
	if tor := services["tor"]; tor == nil || !slices.Contains(strs(get(tor, "profiles")), "tor") {
		add("want a service tor under the profile tor")
	}
	return ps
}

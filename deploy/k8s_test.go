package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
)

type object struct {
	file string
	m    map[string]any
}

func (o object) kind() string { return str(o.m["kind"]) }
func (o object) name() string { return str(get(o.m, "metadata", "name")) }

func checkK8s(fsys files) []string {
	var ps []string
	add := func(format string, a ...any) { ps = append(ps, "k8s: "+fmt.Sprintf(format, a...)) }
	var objs []object
	for name, b := range fsys {
		if !strings.HasPrefix(name, "k8s/") || !strings.HasSuffix(name, ".yaml") {
			continue
		}
		docs, err := yamlDocs(b)
		if err != nil {
			add("%s: %v", name, err)
		}
		for _, d := range docs {
			objs = append(objs, object{name, d})
			ps = append(ps, checkK8sSchema(name, d)...)
		}
	}
	byKind := map[string][]object{}
	for _, o := range objs {
		byKind[o.kind()] = append(byKind[o.kind()], o)
	}
	for _, k := range []string{"Namespace", "ConfigMap", "Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget", "Kustomization"} {
		if len(byKind[k]) == 0 {
			add("want a %s", k)
		}
	}
	for _, ns := range byKind["Namespace"] {
		if str(get(ns.m, "metadata", "labels", "pod-security.kubernetes.io/enforce")) != "restricted" {
			add("namespace %s: want pod-security.kubernetes.io/enforce: restricted", ns.name())
		}
	}
	for _, s := range byKind["Secret"] {
		if s.file != "k8s/secret.example.yaml" {
			add("%s: a Secret manifest outside secret.example.yaml; create Secrets from files, never from git", s.file)
			continue
		}
		for _, field := range []string{"stringData", "data"} {
			for k, v := range asMap(s.m[field]) {
				if !strings.Contains(str(v), "REPLACE") {
					add("secret.example.yaml: %s.%s must be a REPLACE placeholder", field, k)
				}
			}
		}
	}
	for _, k := range byKind["Kustomization"] {
		if slices.Contains(strs(k.m["resources"]), "secret.example.yaml") {
			add("kustomization.yaml must not apply secret.example.yaml")
		}
	}
	for _, sa := range byKind["ServiceAccount"] {
		if sa.m["automountServiceAccountToken"] != false {
			add("serviceaccount %s: want automountServiceAccountToken: false", sa.name())
		}
	}
	var podLabels map[string]any
	for _, d := range byKind["Deployment"] {
		ps = append(ps, checkDeployment(d)...)
		podLabels = asMap(get(d.m, "spec", "template", "metadata", "labels"))
	}
	selects := func(sel any) bool {
		ml := asMap(get(sel, "matchLabels"))
		if len(ml) == 0 {
			return false
		}
		for k, v := range ml {
			if podLabels[k] != v {
				return false
			}
		}
		return true
	}
	for _, pdb := range byKind["PodDisruptionBudget"] {
		if str(get(pdb.m, "spec", "minAvailable")) != "1" || !selects(get(pdb.m, "spec", "selector")) {
			add("pdb %s: want minAvailable: 1 selecting the gateway pods", pdb.name())
		}
	}
	for _, svc := range byKind["Service"] {
		if !selects(map[string]any{"matchLabels": get(svc.m, "spec", "selector")}) {
			add("service %s: must select the gateway pods", svc.name())
		}
		for _, p := range list(get(svc.m, "spec", "ports")) {
			if str(get(p, "targetPort")) != "8080" {
				add("service %s: want targetPort 8080", svc.name())
			}
		}
	}
	var defaultDeny, gatewayPolicy bool
	for _, np := range byKind["NetworkPolicy"] {
		spec := get(np.m, "spec")
		types := strs(get(spec, "policyTypes"))
		both := slices.Contains(types, "Ingress") && slices.Contains(types, "Egress")
		if len(asMap(get(spec, "podSelector"))) == 0 && both && get(spec, "ingress") == nil && get(spec, "egress") == nil {
			defaultDeny = true
		}
		if !selects(get(spec, "podSelector")) {
			continue
		}
		gatewayPolicy = true
		if !both {
			add("networkpolicy %s: want policyTypes Ingress and Egress", np.name())
		}
		ps = append(ps, checkGatewayPolicy(np)...)
	}
	if !defaultDeny {
		add("want a default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)")
	}
	if !gatewayPolicy {
		add("want a NetworkPolicy selecting the gateway pods")
	}
	for _, cm := range byKind["ConfigMap"] {
		raw, ok := asMap(cm.m["data"])["hotline.yaml"]
		if !ok {
			continue
		}
		c, errs := decodeConfig([]byte(str(raw)), "k8s/configmap.yaml")
		ps = append(ps, errs...)
		if c != nil {
			if c.Redis.Mode != "sentinel" && c.Redis.Mode != "cluster" {
				add("configmap: redis.mode must be sentinel or cluster on Kubernetes (a single Redis is a single point of failure)")
			}
			if len(c.Redis.Addrs) == 0 || (c.Redis.Mode == "sentinel" && c.Redis.MasterName == "") {
				add("configmap: redis.addrs (and master_name for sentinel) are required")
			}
			// Behind the ingress every witness would share one rate-limit bucket.
			if len(c.Web.TrustedProxies) == 0 {
				add("configmap: web.trusted_proxies must name the ingress controller's addresses")
			}
			// Trusting every address would let any client choose its own rate-limit bucket.
			for _, p := range c.Web.TrustedProxies {
				if _, n, err := net.ParseCIDR(p); err == nil {
					if ones, _ := n.Mask.Size(); ones == 0 {
						add("configmap: web.trusted_proxies: %s trusts every address; name the ingress controller's range", p)
					}
				}
			}
		}
	}
	return ps
}

// k8sTypes are the API's own types of the kinds deploy/k8s ships, by apiVersion and kind.
var k8sTypes = map[string]func() any{
	"v1/Namespace":                       func() any { return &corev1.Namespace{} },
	"v1/ConfigMap":                       func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                          func() any { return &corev1.Secret{} },
	"v1/Service":                         func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                  func() any { return &corev1.ServiceAccount{} },
	"apps/v1/Deployment":                 func() any { return &appsv1.Deployment{} },
	"networking.k8s.io/v1/NetworkPolicy": func() any { return &networkingv1.NetworkPolicy{} },
	"policy/v1/PodDisruptionBudget":      func() any { return &policyv1.PodDisruptionBudget{} },
}

// checkK8sSchema decodes a manifest strictly into the Kubernetes API's type for its apiVersion
// and kind: an unknown field (a typo the API server would drop with a warning) or a value of
// the wrong type is a problem. Kustomization is kustomize's, not the API's: it has no type here.
func checkK8sSchema(file string, doc map[string]any) []string {
	gvk := str(doc["apiVersion"]) + "/" + str(doc["kind"])
	if gvk == "kustomize.config.k8s.io/v1beta1/Kustomization" {
		return nil
	}
	newObj, ok := k8sTypes[gvk]
	if !ok {
		return []string{fmt.Sprintf("k8s: %s: %s is not a kind this test knows the schema of", file, gvk)}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return []string{fmt.Sprintf("k8s: %s: %s: %v", file, gvk, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(newObj()); err != nil {
		return []string{fmt.Sprintf("k8s: %s: %s %s does not match the API's schema: %v", file, gvk, str(get(doc, "metadata", "name")), err)}
	}
	return nil
}

func checkDeployment(d object) []string {
	var ps []string
	add := func(format string, a ...any) {
		ps = append(ps, fmt.Sprintf("k8s: deployment %s: ", d.name())+fmt.Sprintf(format, a...))
	}
	if str(get(d.m, "spec", "replicas")) != "2" {
		add("want replicas: 2")
	}
	pod := get(d.m, "spec", "template", "spec")
	if get(pod, "automountServiceAccountToken") != false {
		add("want automountServiceAccountToken: false")
	}
	podSC := get(pod, "securityContext")
	containers := list(get(pod, "containers"))
	if len(containers) == 0 {
		add("no containers")
	}
	for _, c := range containers {
		name := str(get(c, "name"))
		sc := get(c, "securityContext")
		either := func(key ...string) any {
			if v := get(sc, key...); v != nil {
				return v
			}
			return get(podSC, key...)
		}
		env := map[string]any{}
		for _, e := range list(get(c, "env")) {
			env[str(get(e, "name"))] = e
		}
		type rule struct {
			what string
			ok   bool
		}
		rules := []rule{
			{"runAsNonRoot: true", either("runAsNonRoot") == true},
			{"readOnlyRootFilesystem: true", get(sc, "readOnlyRootFilesystem") == true},
			{"allowPrivilegeEscalation: false", get(sc, "allowPrivilegeEscalation") == false},
			{"capabilities.drop: [ALL]", slices.Contains(strs(get(sc, "capabilities", "drop")), "ALL")},
			{"no capabilities.add", get(sc, "capabilities", "add") == nil},
			{"seccompProfile RuntimeDefault", str(either("seccompProfile", "type")) == "RuntimeDefault"},
			{"readinessProbe GET /readyz on 8080", str(get(c, "readinessProbe", "httpGet", "path")) == "/readyz" && str(get(c, "readinessProbe", "httpGet", "port")) == "8080"},
			{"livenessProbe GET /healthz on 8080", str(get(c, "livenessProbe", "httpGet", "path")) == "/healthz" && str(get(c, "livenessProbe", "httpGet", "port")) == "8080"},
			{"resources.requests cpu and memory", get(c, "resources", "requests", "cpu") != nil && get(c, "resources", "requests", "memory") != nil},
			{"resources.limits cpu and memory", get(c, "resources", "limits", "cpu") != nil && get(c, "resources", "limits", "memory") != nil},
			{"HOTLINE_PEPPER from a secretKeyRef", get(env["HOTLINE_PEPPER"], "valueFrom", "secretKeyRef") != nil},
			{"TWILIO_AUTH_TOKEN from a secretKeyRef", get(env["TWILIO_AUTH_TOKEN"], "valueFrom", "secretKeyRef") != nil},
		}
		for _, r := range rules {
			if !r.ok {
				add("container %s: want %s", name, r.what)
			}
		}
		for k, e := range env {
			if secretEnv.MatchString(k) && (get(e, "value") != nil || get(e, "valueFrom", "secretKeyRef") == nil) {
				add("container %s: env %s must come from a secretKeyRef, never a literal value", name, k)
			}
		}
	}
	return ps
}

func checkGatewayPolicy(np object) []string {
	var ps []string
	add := func(format string, a ...any) {
		ps = append(ps, fmt.Sprintf("k8s: networkpolicy %s: ", np.name())+fmt.Sprintf(format, a...))
	}
	ingress := list(get(np.m, "spec", "ingress"))
	if len(ingress) == 0 {
		add("want an ingress rule from the ingress controller's namespace")
	}
	for _, r := range ingress {
		for _, p := range list(get(r, "ports")) {
			if str(get(p, "port")) != "8080" {
				add("ingress may only reach port 8080, not %s", str(get(p, "port")))
			}
		}
		if len(list(get(r, "ports"))) == 0 {
			add("an ingress rule without ports opens every port")
		}
		from := list(get(r, "from"))
		if len(from) == 0 {
			add("an ingress rule without from admits everyone")
		}
		for _, f := range from {
			if get(f, "namespaceSelector", "matchLabels") == nil {
				add("ingress only from a namespace chosen by label (the ingress controller's)")
			}
		}
	}
	egressPorts := map[string]bool{}
	for _, r := range list(get(np.m, "spec", "egress")) {
		if len(list(get(r, "ports"))) == 0 {
			add("an egress rule without ports opens every port")
		}
		for _, p := range list(get(r, "ports")) {
			egressPorts[str(get(p, "protocol"))+"/"+str(get(p, "port"))] = true
		}
	}
	for _, want := range []string{"UDP/53", "TCP/443", "TCP/6379"} {
		if !egressPorts[want] {
			add("want egress to %s (DNS, Twilio, Redis)", want)
		}
	}
	for p := range egressPorts {
		if !slices.Contains([]string{"UDP/53", "TCP/53", "TCP/443", "TCP/6379", "TCP/26379"}, p) {
			add("unexpected egress port %s", p)
		}
	}
	return ps
}

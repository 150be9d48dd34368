package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/gateway/config"
	"go.yaml.in/yaml/v3"
)

func TestRedisPasswordNeverPrinted(t *testing.T) {
	c := &config.Config{Redis: config.Redis{URL: "redis://hotline:s3cretRedisPw@10.0.0.5:6379/0", Prefix: "hl"}}
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{
		"%v": fmt.Sprintf("%v", *c), "%+v": fmt.Sprintf("%+v", *c), "%#v": fmt.Sprintf("%#v", *c),
		"yaml": string(y), "String": c.Redis.String(),
	} {
		if strings.Contains(out, "s3cretRedisPw") {
			t.Errorf("%s shows the Redis password: %s", name, out)
		}
		if name == "yaml" && !strings.Contains(out, "10.0.0.5") {
			t.Errorf("yaml lost the Redis host: %s", out)
		}
	}
}

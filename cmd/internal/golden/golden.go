// Package golden compares a command's output with a golden file under
// testdata/golden, for the tests of the CLI's --json shapes.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Update rewrites the golden files instead of comparing (go test -update).
var Update = flag.Bool("update", false, "rewrite the golden files of the --json shapes")

// Check compares got with testdata/golden/NAME.json (writing it first
// with -update), and checks that got is JSON: one object, or one a line,
// with snake_case keys only.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	checkJSONLines(t, got)
	path := filepath.Join("testdata", "golden", name+".json")
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestJSONGolden -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s --json changed shape:\n got %s\nwant %s", name, got, want)
	}
}

// checkJSONLines checks that out is one JSON object, or (watch) one a
// line, and that every key of every object is snake_case.
func checkJSONLines(t testing.TB, out []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	n := 0
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if _, ok := v.(map[string]any); !ok {
			t.Errorf("a --json answer is an object, got %s", out)
		}
		checkKeys(t, v)
		n++
	}
	if n == 0 {
		t.Fatal("no JSON printed")
	}
	if n > 1 && bytes.Count(bytes.TrimSpace(out), []byte("\n")) != n-1 {
		t.Errorf("JSON lines must be one object a line:\n%s", out)
	}
}

func checkKeys(t testing.TB, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k != strings.ToLower(k) || strings.ContainsAny(k, " -") {
				t.Errorf("key %q is not snake_case", k)
			}
			checkKeys(t, x)
		}
	case []any:
		for _, x := range v {
			checkKeys(t, x)
		}
	}
}

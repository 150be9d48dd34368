// Command testjson reads `go test -json` on stdin and prints what plain `go test` would: the
// package lines, and the output of the tests that fail, in full. It ends with one line of
// counts ("N passed, N failed, N skipped") and exits 1 if a test failed or, with CI=true, if a
// test was skipped: in CI a test that needs a tool or data fails, it never skips.
//
//	go test -json ./... | go run .ci/testjson.go
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	ci := os.Getenv("CI") == "true"
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	held := map[string][]string{} // package and test -> its output so far
	var passed, failed int
	testFailed := map[string]bool{} // packages with a failed test
	var skipped []string
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(out, sc.Text()) // not an event: go's own messages
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Test == "" && e.Output == "PASS\n": // plain go test prints only "ok"
		case e.Action == "build-output" || e.Test == "" && e.Action == "output":
			out.WriteString(e.Output)
		case e.Test == "":
		case e.Action == "output":
			held[key] = append(held[key], e.Output)
		case e.Action == "fail":
			failed++
			testFailed[e.Package] = true
			out.WriteString(strings.Join(held[key], ""))
			delete(held, key)
		case e.Action == "pass":
			passed++
			delete(held, key)
		case e.Action == "skip":
			why := slices.DeleteFunc(held[key], func(l string) bool {
				return strings.HasPrefix(strings.TrimSpace(l), "=== ") || strings.HasPrefix(strings.TrimSpace(l), "--- SKIP")
			})
			skipped = append(skipped, fmt.Sprintf("%s %s: %s", e.Package, e.Test, strings.TrimSpace(strings.Join(why, " "))))
			delete(held, key)
		}
		if e.Action == "fail" && e.Test == "" && !testFailed[e.Package] {
			failed++ // a package that fails outside any test: a build error, a panic, a timeout
		}
		if e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
			out.Flush() // a package is done: show it now, not when the whole run ends
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "testjson: reading go test -json: %v\n", err)
		failed++
	}
	if ci && len(skipped) > 0 {
		fmt.Fprintf(out, "\nunder CI=true a test must not skip (it needs a tool or data: install it in .ci/run, or fail):\n")
		for _, s := range skipped {
			fmt.Fprintf(out, "  SKIP %s\n", s)
		}
	}
	fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", passed, failed, len(skipped))
	if failed > 0 || ci && len(skipped) > 0 {
		out.Flush()
		os.Exit(1)
	}
}

// Package redisstats reads Redis's count of calls by command, for the
// measures of what a request costs Redis (hotline-load, the budget tests).
package redisstats

import (
	"strconv"
	"strings"
)

// Parse reads the calls by command from the text of INFO commandstats
// (commands run by scripts are counted too).
func Parse(info string) map[string]int64 {
	calls := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		if v, err := strconv.ParseInt(n, 10, 64); err == nil {
			calls[name] = v
		}
	}
	return calls
}

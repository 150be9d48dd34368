package twilioapi_test

import (
	"fmt"
	"strings"

	"github.com/hotline-org/hotline/gateway/twilioapi"
)

// A scrub job that keeps failing with 20009 is retried on this schedule
// (before jitter), and abandoned when Next says so.
func ExampleSchedule_Delay() {
	var waits []string
	for attempt := 1; attempt <= 8; attempt++ {
		waits = append(waits, twilioapi.ScrubSchedule.Delay(attempt).String())
	}
	fmt.Println(strings.Join(waits, " "))
	_, retry := twilioapi.ScrubSchedule.Next(80)
	fmt.Println(retry)
	// Output:
	// 1m0s 2m0s 4m0s 8m0s 16m0s 32m0s 1h0m0s 1h0m0s
	// false
}

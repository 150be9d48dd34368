package breaker_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hotline-org/hotline/gateway/breaker"
)

// TestBreaker runs on synctest's clock: the cooldown ends exactly when it should, not about
// when a sleep happens to wake.
func TestBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &breaker.Breaker{Cooldown: 50 * time.Millisecond}
		if b.Open() {
			t.Fatal("a new breaker is open")
		}
		b.Record(errors.New("down"))
		if !b.Open() {
			t.Fatal("not open after a failure")
		}
		time.Sleep(49 * time.Millisecond)
		if !b.Open() {
			t.Fatal("closed before the cooldown ended")
		}
		b.Record(errors.New("down again"))
		time.Sleep(49 * time.Millisecond)
		if !b.Open() {
			t.Fatal("a second failure did not restart the cooldown")
		}
		time.Sleep(time.Millisecond)
		if b.Open() {
			t.Fatal("still open after the cooldown")
		}
		b.Record(errors.New("down"))
		b.Record(nil)
		if b.Open() {
			t.Fatal("open after a success")
		}
	})
}

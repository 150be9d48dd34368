package breaker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/breaker"
)

func TestBreaker(t *testing.T) {
	b := &breaker.Breaker{Cooldown: 50 * time.Millisecond}
	if b.Open() {
		t.Fatal("a new breaker is open")
	}
	b.Record(errors.New("down"))
	if !b.Open() {
		t.Fatal("not open after a failure")
	}
	time.Sleep(60 * time.Millisecond)
	if b.Open() {
		t.Fatal("still open after the cooldown")
	}
	b.Record(errors.New("down"))
	b.Record(nil)
	if b.Open() {
		t.Fatal("open after a success")
	}
}

package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hotline-org/hotline/gateway/fault"
)

func TestOf(t *testing.T) {
	errGone := fault.New(fault.NotFound, "no such tip")
	for _, tc := range []struct {
		name string
		err  error
		kind fault.Kind
		msg  string
	}{
		{"sentinel", errGone, fault.NotFound, "no such tip"},
		{"wrapped: the public message, not the wrapping", fmt.Errorf("redis 10.0.0.3: key hl:x: %w", errGone), fault.NotFound, "no such tip"},
		{"a kind alone", fmt.Errorf("read: %w", fault.Unavailable), fault.Unavailable, "unavailable"},
		{"joined: the first", errors.Join(fault.New(fault.TooLarge, "too large"), errGone), fault.TooLarge, "too large"},
		{"no kind", errors.New("boom"), 0, ""},
		{"nil", nil, 0, ""},
	} {
		k, msg := fault.Of(tc.err)
		if k != tc.kind || msg != tc.msg {
			t.Errorf("%s: Of = %v %q, want %v %q", tc.name, k, msg, tc.kind, tc.msg)
		}
	}
}

func TestIsKind(t *testing.T) {
	err := fmt.Errorf("claim: %w", fault.New(fault.Conflict, "lease lapsed"))
	if !errors.Is(err, fault.Conflict) {
		t.Error("errors.Is(wrapped conflict, Conflict) = false")
	}
	if errors.Is(err, fault.NotFound) {
		t.Error("errors.Is(wrapped conflict, NotFound) = true")
	}
	if fault.Kind(0).String() != "internal" || fault.Kind(99).String() != "internal" {
		t.Error("an unknown kind is not named internal")
	}
}

func ExampleOf() {
	errNoTip := fault.New(fault.NotFound, "no such tip")
	err := fmt.Errorf("open tip in stream hl:{pe-lima}:urgent: %w", errNoTip)
	kind, msg := fault.Of(err)
	fmt.Println(kind, "|", msg, "|", errors.Is(err, fault.NotFound))
	// Output: not found | no such tip | true
}

func TestNewPublic(t *testing.T) {
	err := fault.NewPublic(fault.Unavailable, "queue unavailable", "temporarily unavailable, try again")
	if err.Error() != "queue unavailable" {
		t.Errorf("Error() = %q, want the internal message", err.Error())
	}
	if k, msg := fault.Of(fmt.Errorf("xadd: %w", err)); k != fault.Unavailable || msg != "temporarily unavailable, try again" {
		t.Errorf("Of = %v %q, want the public message", k, msg)
	}
}

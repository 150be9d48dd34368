package golden

import (
	"testing"
)

// TestCheckRefuses: Go field names, a null answer and two objects on one
// line are refused.
func TestCheckRefuses(t *testing.T) {
	for _, bad := range []string{`{"ID":"x"}`, `null`, `{"a":{"LeaseUntil":1}}`, `{"event":"a"} {"event":"b"}`} {
		ft := &fakeT{TB: t}
		func() {
			defer func() { recover() }()
			checkJSONLines(ft, []byte(bad))
		}()
		if !ft.failed {
			t.Errorf("%s was taken", bad)
		}
	}
	ft := &fakeT{TB: t}
	checkJSONLines(ft, []byte("{\"event\":\"a\"}\n{\"event\":\"b\"}\n"))
	if ft.failed {
		t.Error("JSON lines were refused")
	}
}

type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true; panic("fatal") }
func (f *fakeT) Fatal(...any)          { f.failed = true; panic("fatal") }

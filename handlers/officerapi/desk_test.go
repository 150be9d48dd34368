package officerapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

// TestOpenReport: a report opens only as its own tip's; a report of
// another tip, or one that is not a report, is refused.
func TestOpenReport(t *testing.T) {
	g, err := seal.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "officer.key")
	if err := seal.WriteIdentityFile(path, g, time.Now()); err != nil {
		t.Fatal(err)
	}
	ids, err := seal.LoadIdentities(path, &bytes.Buffer{}, "")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := seal.ParseRecipients([]string{g.Recipient})
	if err != nil {
		t.Fatal(err)
	}
	sealed := func(v any) []byte {
		b, _ := json.Marshal(v)
		s, err := rs.Seal(b)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	report := sealed(gateway.Report{TipID: "t1", Case: "C1", Text: "help"})
	if rep, err := officerapi.OpenReport(ids, report, "t1", "C1"); err != nil || rep.Text != "help" {
		t.Fatalf("OpenReport = %+v, %v", rep, err)
	}
	var oe *officerapi.OpenError
	for _, c := range []struct {
		name        string
		sealed      []byte
		tip, caseID string
		want        error
	}{
		{"another tip", report, "t2", "C1", officerapi.ErrOtherTip},
		{"another case", report, "t1", "C2", officerapi.ErrOtherTip},
		{"not a report", sealed([]int{1}), "t1", "C1", officerapi.ErrReportUnreadable},
	} {
		if _, err := officerapi.OpenReport(ids, c.sealed, c.tip, c.caseID); !errors.Is(err, c.want) || !errors.As(err, &oe) || oe.TipID != c.tip {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := officerapi.OpenReport(ids, []byte("not age"), "t1", "C1"); !errors.As(err, &oe) || errors.Is(err, officerapi.ErrOtherTip) {
		t.Errorf("not sealed: %v", err)
	}
}

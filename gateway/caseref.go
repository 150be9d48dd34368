package gateway

import (
	"crypto/rand"
	"errors"
)

// ErrBadCase is returned for a Tip.Case that is not a case reference.
var ErrBadCase = errors.New("malformed case reference")

// NewCaseRef returns a fresh random case reference (XXXX-XXXX). The web form
// draws it before intake, so that the witness's follow-up thread exists
// before the tip that points to it is queued.
func NewCaseRef() string {
	b := make([]byte, 5)
	rand.Read(b)
	return encodeCase(b)
}

// ValidCaseRef reports whether s has the form of a case reference.
func ValidCaseRef(s string) bool {
	if len(s) != 9 || s[4] != '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i != 4 && !isCaseChar(s[i]) {
			return false
		}
	}
	return true
}

func isCaseChar(c byte) bool {
	for i := 0; i < len(caseAlphabet); i++ {
		if caseAlphabet[i] == c {
			return true
		}
	}
	return false
}

// ReasonCase is the routing reason of a tip sent to the agencies of an
// existing case (Tip.Agencies) rather than by location.
const ReasonCase = "case"

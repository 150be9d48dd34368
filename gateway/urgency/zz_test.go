package urgency

import (
	"testing"
	"time"
)

// TestZZAB times the two matchers in alternating batches, so that the load
// of the machine falls on both alike.
func TestZZAB(t *testing.T) {
	m := mustMatcher(t, Options{})
	ref, _ := newRef(Options{})
	for _, c := range benchTexts {
		n := 2000
		if len(c.text) > 1000 {
			n = 5
		}
		var a, b time.Duration
		for round := 0; round < 40; round++ {
			s := time.Now()
			for range n {
				m.Match(c.text)
			}
			a += time.Since(s)
			s = time.Now()
			for range n {
				ref.Match(c.text)
			}
			b += time.Since(s)
		}
		t.Logf("%-12s compact %8.0f ns/op  reference %8.0f ns/op  ratio %.3f", c.name,
			float64(a)/float64(40*n), float64(b)/float64(40*n), float64(a)/float64(b))
	}
}

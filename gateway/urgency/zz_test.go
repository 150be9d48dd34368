package urgency

import (
	"runtime"
	"testing"
)

var keep *Matcher

func BenchmarkZZNew(b *testing.B) {
	runtime.MemProfileRate = 1
	for b.Loop() {
		keep, _ = New(Options{})
	}
}

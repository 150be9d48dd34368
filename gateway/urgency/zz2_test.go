package urgency

import "testing"

func TestZZWhich(t *testing.T) {
	m := mustMatcher(t, Options{})
	for _, c := range benchTexts[:5] {
		ps, _ := m.find(c.text)
		for _, p := range ps {
			t.Logf("%s: %q k=%d -> %q", c.name, p.groups, p.variant, p.asWritten())
		}
	}
}

func BenchmarkZZVariant(b *testing.B) {
	for b.Loop() {
		variant("(护照|证件|身份证)(被|给)(收|拿|扣)(走|了)", 7)
	}
}

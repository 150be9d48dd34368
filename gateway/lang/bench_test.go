package lang

import "testing"

func BenchmarkDetect(b *testing.B) {
	d, err := NewDetector(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, text string }{
		{"latin", "kami dijanjikan kerja di restoran tapi dijual ke kapal"},
		{"han", "请快点来，他们明天要把我们卖到别的公司"},
		{"vietnamese", "làm ơn đến nhanh, mai họ chuyển chúng tôi đi"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				d.Detect(c.text, "+60123456789")
			}
		})
	}
}

func BenchmarkNewDetector(b *testing.B) {
	for b.Loop() {
		if _, err := parseLexicon(); err != nil {
			b.Fatal(err)
		}
	}
}

package photo

import "testing"

// TestCost pins what the default budget lets through: the photos phones
// take fit, decompression bombs are cheap or refused.
func TestCost(t *testing.T) {
	sub420 := [][2]int{{2, 2}, {1, 1}, {1, 1}}
	sub444 := [][2]int{{1, 1}, {1, 1}, {1, 1}}
	for _, tc := range []struct {
		name     string
		h        header
		oriented bool
		fits     bool
		under    int64 // when non-zero, the cost must be below
	}{
		{"12 MP phone JPEG, turned", header{width: 4000, height: 3000, samples: sub420}, true, true, 90 << 20},
		{"48 MP phone JPEG, turned", header{width: 8000, height: 6000, samples: sub420}, true, true, 0},
		{"12 MP progressive 4:4:4 JPEG", header{width: 4000, height: 3000, samples: sub444, progressive: true}, false, false, 0},
		{"49 MP 16-bit PNG, row by row", header{png: true, width: 7000, height: 7000, bitDepth: 16, colorType: 6}, false, true, 48 << 20},
		{"49 MP 16-bit interlaced PNG", header{png: true, width: 7000, height: 7000, bitDepth: 16, colorType: 6, interlaced: true}, false, false, 0},
		{"one row of 16 M pixels", header{png: true, width: 1 << 24, height: 1, bitDepth: 16, colorType: 6}, false, false, 0},
	} {
		dw, dh := fit(tc.h.width, tc.h.height, DefaultMaxSide)
		scaled := tc.h.png && !tc.h.interlaced && (dw != tc.h.width || dh != tc.h.height)
		c := tc.h.cost(dw, dh, scaled, tc.oriented)
		if fits := c <= DefaultBudget; fits != tc.fits {
			t.Errorf("%s: cost %d MB, fits in the default budget: %v, want %v", tc.name, c>>20, fits, tc.fits)
		}
		if tc.under != 0 && c >= tc.under {
			t.Errorf("%s: cost %d MB, want under %d MB", tc.name, c>>20, tc.under>>20)
		}
	}
}

package redisstats

import "testing"

func TestParse(t *testing.T) {
	info := "# Commandstats\r\ncmdstat_xadd:calls=3,usec=10,usec_per_call=3.33,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_script|load:calls=1,usec=5\r\ncmdstat_bad:calls=x,usec=1\r\nnoise\r\n"
	got := Parse(info)
	if len(got) != 2 || got["xadd"] != 3 || got["script|load"] != 1 {
		t.Fatalf("Parse = %v", got)
	}
}

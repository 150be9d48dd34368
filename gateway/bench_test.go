package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
)

// BenchmarkIntake measures the whole intake path against real Redis:
// dedupe, locate, route, seal to two recipients, publish, mark done.
func BenchmarkIntake(b *testing.B) {
	for _, kind := range []string{"x25519", "pq"} {
		b.Run(kind, func(b *testing.B) {
			in := benchIntake(b, kind)
			text := "Nos tienen encerrados en una casa, -12.0857, -76.9397. " + strings.Repeat("x", 900)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				_, err := in.Submit(context.Background(), gateway.Tip{
					Channel: gateway.ChannelSMS, ProviderID: fmt.Sprintf("SMbench%s%d", kind, i),
					From: "+51987654321", To: "+15005550006", Text: text,
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchIntake(b *testing.B, kind string) *gateway.Intake {
	r := queuetest.New(b)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix})
	var lines []string
	for range 2 {
		g, err := seal.Generate(kind != "pq")
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, g.Recipient)
	}
	rs, err := seal.ParseRecipients(lines)
	if err != nil {
		b.Fatal(err)
	}
	ix, err := geo.Load([]geo.RegionSpec{{ID: "lima", Polygon: [][][2]float64{{{-77.2, -12.4}, {-76.7, -12.4}, {-76.7, -11.7}, {-77.2, -11.7}}}}})
	if err != nil {
		b.Fatal(err)
	}
	router := gateway.NewRouter(ix, geo.NewLocator(ix), []gateway.AgencyArea{{ID: "pe-lima", Regions: []string{"lima"}}}, nil, "pe-lima")
	keyer, _ := pseudonym.New([]byte("benchmark-pepper-benchmark-pepper!!"))
	in := gateway.NewIntake(gateway.Options{
		Sealer: seal.NewKeyring(map[string]*seal.Recipients{"pe-lima": rs}), Publisher: q, Router: router, Keyer: keyer,
	})
	return in
}

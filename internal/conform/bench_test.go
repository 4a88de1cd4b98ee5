package conform

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/testbin"
	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

// BenchmarkCatalogue is the whole catalogue against the reference server, one run per op,
// as users run it: with --config, every server check starts the server and the mock IdP
// it trusts (config); with --sut-url, one running server and the checks that need no
// token it trusts (url); and the gateway checks against the reference SUT (gateway, which
// exits 1: three of them fail there by design; gateway-auth, its protected mode, where
// each user first logs in to the gateway). It reports the wall time of a run and
// checks per second (N/A ones included).
func BenchmarkCatalogue(b *testing.B) {
	bin := testbin.Build(b)
	run := func(b *testing.B, opts Options) {
		opts.Stdout, opts.Stderr, opts.Self = io.Discard, io.Discard, bin
		opts.CheckTimeout, opts.ReadyTimeout = 20*time.Second, 30*time.Second
		checks := 0
		start := time.Now()
		for b.Loop() {
			res, code := Run(context.Background(), opts)
			if res == nil || code != 0 && opts.Gateway == "" {
				b.Fatalf("exit %d", code)
			}
			checks += len(res.Outcomes)
		}
		wall := time.Since(start)
		b.ReportMetric(wall.Seconds()/float64(b.N), "s/run")
		b.ReportMetric(float64(checks)/wall.Seconds(), "checks/s")
	}
	b.Run("config", func(b *testing.B) { run(b, Options{ConfigFile: referenceConfig}) })
	b.Run("gateway", func(b *testing.B) { run(b, Options{Gateway: "builtin"}) })
	b.Run("gateway-auth", func(b *testing.B) { run(b, Options{Gateway: "builtin", GatewayAuth: true}) })
	b.Run("url", func(b *testing.B) {
		s, err := mountidp.Start(refserver.Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		run(b, Options{URL: s.URL()})
	})
}

// Command source-oura is an Airbyte source connector for the Oura Ring API v2.
package main

import (
	"context"
	_ "embed"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"source-oura/internal/cli"
)

//go:embed spec.json
var spec []byte

// version is stamped at build time with -ldflags "-X main.version=...", from the VERSION file
// (make build, make image, the Dockerfile); "dev" marks a plain `go build`.
var version = "dev"

func main() {
	if os.Getenv("GOGC") == "" {
		// Pages are the only large allocations and die young; collecting at 50% heap growth
		// instead of 100% cuts peak RSS by about a fifth for a few percent more CPU (make bench).
		debug.SetGCPercent(50)
	}
	if path := os.Getenv("SOURCE_OURA_CPUPROFILE"); path != "" {
		// For make bench and performance work: where the CPU time of a run goes.
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Env{
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Stdin:   os.Stdin,
		Spec:    spec,
		Version: version,
	})
	stop()
	if code != 0 {
		pprof.StopCPUProfile()
		os.Exit(code)
	}
}

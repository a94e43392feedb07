// Command source-oura is an Airbyte source connector for the Oura Ring API v2.
package main

import (
	"context"
	_ "embed"
	"fmt"
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

// cpuProfileEnv names a file to write a CPU profile of the run to, for make bench and
// performance work (go tool pprof reads it).
const cpuProfileEnv = "SOURCE_OURA_CPUPROFILE"

// startCPUProfile profiles the run into path, a file that must not exist yet: O_EXCL refuses an
// existing file and a symlink alike, because the variable once pointed at the config file
// destroyed the only refresh token. Profiling is a developer aid, so a refusal is one line on
// stderr (stdout carries only Airbyte messages) and the command runs unprofiled.
func startCPUProfile(path string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			_ = os.Remove(path)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "WARN %s: not profiling: %v; name a file that does not exist yet\n", cpuProfileEnv, err)
	}
}

func main() {
	if os.Getenv("GOGC") == "" {
		// Pages are the only large allocations and die young; collecting at 50% heap growth
		// instead of 100% cuts peak RSS by about a fifth for a few percent more CPU (make bench).
		debug.SetGCPercent(50)
	}
	if path := os.Getenv(cpuProfileEnv); path != "" {
		startCPUProfile(path)
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
	pprof.StopCPUProfile() // writes out the profile, if one runs, before os.Exit can skip it
	if code != 0 {
		os.Exit(code)
	}
}

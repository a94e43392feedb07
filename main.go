// Command source-oura is an Airbyte source connector for the Oura Ring API v2.
package main

import (
	"context"
	_ "embed"
	"os"
	"os/signal"
	"syscall"

	"source-oura/internal/cli"
)

//go:embed spec.json
var spec []byte

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Env{
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Stdin:   os.Stdin,
		Spec:    spec,
		Version: version,
	})
	stop()
	os.Exit(code)
}

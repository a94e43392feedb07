// Command demo shows the connector working with no Oura account and no network: it starts
// the bundled Oura API emulator on loopback, then runs check, discover and a full read of
// all 19 streams against it, and prints what each step produced. The commands run in this
// process, through the same cli.Run the source-oura binary calls, so nothing needs building.
//
//	go run ./cmd/demo [-days 730] [-out DIR]
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"source-oura/cmd/internal/loopback"
	"source-oura/internal/cli"
	"source-oura/internal/ouraemu"
	"source-oura/protocol"
)

const token = "demo-token"

func main() {
	days := flag.Int("days", 730, "days of emulated history")
	outDir := flag.String("out", "", "folder for config.json, catalog.json and the read output (default: a temp folder)")
	flag.Parse()
	if err := run(*days, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(days int, outDir string) error {
	spec, err := os.ReadFile("spec.json")
	if err != nil {
		return fmt.Errorf("run the demo from the repository root (make demo): %w", err)
	}
	keep := outDir != ""
	if !keep {
		if outDir, err = os.MkdirTemp("", "source-oura-demo-"); err != nil {
			return err
		}
		// The files are only worth keeping when asked for; a demo leaves nothing behind.
		defer func() {
			if err := os.RemoveAll(outDir); err == nil {
				fmt.Printf("\nRemoved the temporary folder %s; run with -out DIR to keep its files.\n", outDir)
			}
		}()
	}
	now := time.Now().UTC()
	opts := ouraemu.DefaultOptions(now)
	opts.First = opts.Last.AddDate(0, 0, -(days - 1))
	srv := ouraemu.NewServer(ouraemu.Options{Dataset: ouraemu.Generate(opts), Tokens: map[string][]string{token: ouraemu.AllScopes}})
	base, stop, err := loopback.Serve(srv)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("Oura API emulator: %s (%d days of data ending %s)\n", base, days, opts.Last.Format("2006-01-02"))
	fmt.Println("Each command below runs in this process (cli.Run, the code of the source-oura binary), not as a separate program.")

	config := filepath.Join(outDir, "config.json")
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":%q}`, token, base, opts.First.Format("2006-01-02T15:04:05Z"))
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		return err
	}
	ctx := context.Background()
	env := func(out *bytes.Buffer) cli.Env {
		return cli.Env{Stdout: out, Stderr: os.Stderr, Spec: spec, Version: "demo"}
	}

	var out bytes.Buffer
	code := cli.Run(ctx, []string{"check", "--config", config}, env(&out))
	fmt.Printf("\n$ source-oura check --config %s   (exit %d)\n%s", config, code, out.String())
	if code != 0 {
		return fmt.Errorf("check failed")
	}

	out.Reset()
	if code := cli.Run(ctx, []string{"discover", "--config", config}, env(&out)); code != 0 {
		return fmt.Errorf("discover exited %d: %s", code, out.String())
	}
	var msg protocol.Message
	if err := json.Unmarshal(out.Bytes(), &msg); err != nil || msg.Catalog == nil {
		return fmt.Errorf("discover printed no catalog: %v", err)
	}
	fmt.Printf("\n$ source-oura discover --config %s\n%d streams:", config, len(msg.Catalog.Streams))
	configured := protocol.ConfiguredCatalog{}
	for _, s := range msg.Catalog.Streams {
		fmt.Printf(" %s", s.Name)
		mode := protocol.FullRefresh
		if len(s.SupportedSyncModes) > 1 {
			mode = protocol.Incremental
		}
		configured.Streams = append(configured.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: mode, DestinationSyncMode: protocol.Append})
	}
	fmt.Println()
	catalog := filepath.Join(outDir, "catalog.json")
	cb, _ := json.Marshal(configured)
	if err := os.WriteFile(catalog, cb, 0o644); err != nil {
		return err
	}

	readOut := filepath.Join(outDir, "read.jsonl")
	f, err := os.Create(readOut)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	start := time.Now()
	code = cli.Run(ctx, []string{"read", "--config", config, "--catalog", catalog}, cli.Env{Stdout: &buf, Stderr: os.Stderr, Spec: spec, Version: "demo"})
	elapsed := time.Since(start)
	if _, err := f.Write(buf.Bytes()); err != nil {
		return err
	}
	f.Close()
	fmt.Printf("\n$ source-oura read --config %s --catalog %s > %s   (exit %d, %s)\n\n", config, catalog, readOut, code, elapsed.Round(time.Millisecond))
	return summarize(&buf, code)
}

// summarize prints records, states and the final status per stream.
func summarize(out *bytes.Buffer, code int) error {
	type row struct {
		records, states int
		status          string
	}
	rows := map[string]*row{}
	get := func(n string) *row {
		if rows[n] == nil {
			rows[n] = &row{}
		}
		return rows[n]
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	total := 0
	for sc.Scan() {
		var m protocol.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return fmt.Errorf("read printed a line that is not a message: %v", err)
		}
		switch {
		case m.Record != nil:
			get(m.Record.Stream).records++
			total++
		case m.State != nil && m.State.Stream != nil:
			get(m.State.Stream.StreamDescriptor.Name).states++
		case m.Trace != nil && m.Trace.StreamStatus != nil:
			get(m.Trace.StreamStatus.StreamDescriptor.Name).status = string(m.Trace.StreamStatus.Status)
		case m.Trace != nil && m.Trace.Error != nil:
			fmt.Println("ERROR:", m.Trace.Error.Message)
		}
	}
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Printf("%-26s %10s %7s  %s\n", "stream", "records", "states", "status")
	for _, n := range names {
		r := rows[n]
		fmt.Printf("%-26s %10d %7d  %s\n", n, r.records, r.states, r.status)
	}
	fmt.Printf("%-26s %10d\n", "total", total)
	fmt.Println("\nDaily streams have fewer records than days: like a real ring, the emulator leaves days without data\n" +
		"(one day in 30 the ring is not worn), and some collections (workouts, tags, rest mode) only have a\n" +
		"document on some days.")
	if code != 0 {
		return fmt.Errorf("read exited %d", code)
	}
	return nil
}

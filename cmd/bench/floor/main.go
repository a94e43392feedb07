// Command floor is the benchmark's yardstick: the least work any correct connector must do.
// It makes the connector's exact requests with the same concurrency, splits each page into
// its records and writes each inside a RECORD envelope to stdout — no validation, no
// filtering, no state. make bench runs it beside the connector.
//
//	floor -base-url URL -token T -start 2021-01-01T00:00:00Z [-end ...] [-concurrency 4]
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"source-oura/internal/oura"
	"source-oura/protocol"
	"source-oura/streams"
)

func main() {
	base := flag.String("base-url", "", "emulator URL")
	token := flag.String("token", "", "bearer token")
	startS := flag.String("start", "", "start_datetime (RFC 3339)")
	endS := flag.String("end", "", "end_datetime (RFC 3339), empty for now")
	concurrency := flag.Int("concurrency", 4, "streams at once")
	prefetch := flag.Int("prefetch", 4, "windows of one stream fetched at once")
	flag.Parse()
	if err := run(*base, *token, *startS, *endS, *concurrency, *prefetch); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(base, token, startS, endS string, concurrency, prefetch int) error {
	start, err := time.Parse(time.RFC3339, startS)
	if err != nil {
		return err
	}
	var end time.Time
	if endS != "" {
		if end, err = time.Parse(time.RFC3339, endS); err != nil {
			return err
		}
	}
	client, err := oura.New(oura.Config{BaseURL: base, Tokens: oura.StaticToken(token), RequestsPer5Min: 1 << 30})
	if err != nil {
		return err
	}
	out := protocol.NewWriter(os.Stdout, nil)
	defer out.Flush()
	ctx := context.Background()
	now := time.Now()
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for _, s := range streams.AllStreams() {
		wg.Add(1)
		go func(s *streams.Stream) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			prefix := protocol.NewRecordPrefix(s.Name, "")
			path := "/v2/usercollection/" + s.Path
			if s.Params == streams.Single {
				body, err := client.Get(ctx, path, nil)
				if err == nil {
					err = out.Record(prefix, body)
				}
				if err != nil {
					errs <- err
				}
				return
			}
			// Windows fetched up to prefetch at a time, written in order, as the connector does;
			// records travel in batches of about 64 KB as they are split from the body.
			queries := s.FullRefreshQueries(start, end, now)
			results := make([]chan []byte, len(queries))
			slots := make(chan struct{}, prefetch)
			for i := range results {
				results[i] = make(chan []byte, 4)
			}
			go func() {
				for i, q := range queries {
					slots <- struct{}{}
					go func(i int, it *oura.Pages) {
						defer func() { <-slots }()
						defer close(results[i])
						var batch []byte
						for it.Next(ctx, func(r oura.Record) error {
							batch = binary.LittleEndian.AppendUint32(batch, uint32(len(r.Raw)))
							batch = append(batch, r.Raw...)
							if len(batch) >= 64<<10 {
								results[i] <- batch
								batch = nil
							}
							return nil
						}) {
						}
						if len(batch) > 0 {
							results[i] <- batch
						}
						if err := it.Err(); err != nil {
							errs <- err
						}
					}(i, client.Pages(path, q))
				}
			}()
			for _, ch := range results {
				for batch := range ch {
					for len(batch) > 0 {
						n := 4 + int(binary.LittleEndian.Uint32(batch))
						if err := out.Record(prefix, batch[4:n]); err != nil {
							errs <- err
							return
						}
						batch = batch[n:]
					}
				}
			}
		}(s)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	return nil
}

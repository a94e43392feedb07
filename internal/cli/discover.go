package cli

import (
	"context"

	"source-oura/protocol"
	"source-oura/streams"
)

// discover prints the catalog: every stream with its embedded schema, plus the top-level fields
// a small sample of each collection shows that the schema lacks (streams.Sampler), so that
// Airbyte, which drops undeclared fields, learns of fields Oura added. Sampling shares read's
// client and rate budget, with check's short retries; whatever fails there leaves that stream's
// embedded schema with a WARN, and discover still prints all streams and exits 0. Only a config
// that cannot be used fails it.
func (r *run) discover(ctx context.Context) int {
	cfg, err := r.loadConfig()
	if err != nil {
		_ = r.out.Error(protocol.ConfigError, err.Error(), "", nil)
		return ExitFailure
	}
	client, err := r.client(cfg, true)
	if err != nil {
		_ = r.out.Error(protocol.ConfigError, err.Error(), "", nil)
		return ExitFailure
	}
	sampler := &streams.Sampler{
		Client:      client,
		Log:         r.log,
		Start:       cfg.Start,
		End:         cfg.End,
		Sandbox:     cfg.Sandbox,
		Now:         r.env.Now,
		Timeout:     streams.DefaultSampleTimeout,
		Concurrency: streams.DefaultSampleConcurrency,
	}
	cat, err := sampler.Catalog(ctx)
	if err == nil {
		err = streams.WithAccountColumn(cat, accountColumnName(cfg)) // config account_column
	}
	if err != nil {
		_ = r.out.Error(protocol.SystemError, "The connector could not build its catalog.", err.Error(), nil)
		return ExitFailure
	}
	if err := r.out.Write(&protocol.Message{Type: protocol.TypeCatalog, Catalog: cat}); err != nil {
		return ExitFailure
	}
	return ExitOK
}

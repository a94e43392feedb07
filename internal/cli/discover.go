package cli

import (
	"context"
	"errors"
	"fmt"

	"source-oura/internal/oura"
	"source-oura/protocol"
	"source-oura/streams"
)

// discover prints the catalog: every stream with its embedded schema, plus the top-level fields
// a small sample of each collection shows that the schema lacks (streams.Sampler), so that
// Airbyte, which drops undeclared fields, learns of fields Oura added. Sampling shares read's
// client and rate budget, with check's short retries; whatever fails there leaves that stream's
// embedded schema with a WARN, and discover still prints all streams and exits 0, because the
// built-in schemas need no API and orchestrators that only want the catalog must get it. When no
// sample worked for one shared cause (the credentials were refused, Oura could not be reached),
// one WARN says so instead of one per stream. Only a config that cannot be used fails discover,
// and an interruption (SIGTERM, SIGINT), which prints no catalog: a catalog of built-in schemas
// passed off as a finished discover would hide the fields the sampling was cut off from finding.
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
	held := &protocol.HeldLogs{} // the sampler's WARNs wait until the outcome is known
	var outcome sampleOutcome
	sampler := &streams.Sampler{
		Client:      client,
		Log:         held.Logger(r.args.debug),
		Start:       cfg.Start,
		End:         cfg.End,
		Sandbox:     cfg.Sandbox,
		Now:         r.env.Now,
		Timeout:     streams.DefaultSampleTimeout,
		Concurrency: streams.DefaultSampleConcurrency,
		Sampled:     outcome.note,
		// Oura's own field of that name loses to the connector's column (config account_column).
		AccountColumn: accountColumnName(cfg),
	}
	cat, err := sampler.Catalog(ctx)
	if ctx.Err() != nil {
		held.Drop()
		_ = r.out.Error(protocol.TransientError, "Discover was interrupted before it finished sampling Oura's data, so it printed no catalog; run it again.",
			context.Cause(ctx).Error(), nil)
		return ExitFailure
	}
	if err == nil {
		err = streams.WithAccountColumn(cat, accountColumnName(cfg)) // config account_column
	}
	if err != nil {
		held.Release(r.out)
		_ = r.out.Error(protocol.SystemError, "The connector could not build its catalog.", err.Error(), nil)
		return ExitFailure
	}
	if msg := outcome.shared(); msg != "" {
		held.Drop()
		r.log.Warn().Msg(msg + "; the catalog holds the built-in schemas, which list only the fields of Oura's OpenAPI document, so Airbyte drops any field Oura added since")
	} else {
		held.Release(r.out)
	}
	if err := r.out.Write(&protocol.Message{Type: protocol.TypeCatalog, Catalog: cat}); err != nil {
		return ExitFailure
	}
	return ExitOK
}

// sampleOutcome tallies how discover's samples ended, to tell one shared cause from many. The
// sampler reports them one at a time, after sampling, so it needs no lock.
type sampleOutcome struct {
	ok, failed, other int
	refused           error // the first sample Oura refused the credentials for
	unreachable       error // the first sample that got no answer (network, or discover's time ran out)
}

func (o *sampleOutcome) note(_ string, err error) {
	var oe *oura.Error
	switch {
	case err == nil:
		o.ok++
		return
	case errors.As(err, &oe) && oe.Kind == oura.Unauthorized:
		if o.refused == nil {
			o.refused = err
		}
	case errors.As(err, &oe) && oe.Kind == oura.Network, errors.Is(err, context.DeadlineExceeded):
		if o.unreachable == nil {
			o.unreachable = err
		}
	default:
		o.other++
	}
	o.failed++
}

// shared is the one WARN's opening when no sample worked for one cause, "" otherwise. Refused
// credentials explain every failure, whatever else went wrong meanwhile.
func (o *sampleOutcome) shared() string {
	switch {
	case o.ok > 0 || o.failed == 0:
		return ""
	case o.refused != nil:
		return fmt.Sprintf("discover could not sample Oura's data because Oura refused the credentials: %v", o.refused)
	case o.unreachable != nil && o.other == 0:
		return fmt.Sprintf("discover could not sample any of %d collections because Oura could not be reached within the %s discover allows: %v",
			o.failed, streams.DefaultSampleTimeout, o.unreachable)
	}
	return ""
}

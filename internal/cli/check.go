package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"source-oura/internal/oura"
	"source-oura/protocol"
	"source-oura/streams"
)

// scopeProbe is one small request that tells whether the token can read the streams that need one
// OAuth scope. Oura checks scopes per collection, so one request per scope is enough to know every
// stream; the scope each stream needs comes from the stream table (Stream.Scope).
type scopeProbe struct {
	scope   string
	streams []string
	path    string
	query   url.Values
	single  bool // a bare document (personal_info), not a list
	err     error
}

// run sends the probe and reads its answer the way read does: a document is read whole, a list's first
// page through the page reader, so an answer read would refuse ({"data":{}} or {"data":null}, say) fails
// the probe too instead of passing the check.
func (p *scopeProbe) run(ctx context.Context, client *oura.Client) error {
	if p.single {
		_, err := client.Get(ctx, p.path, p.query)
		return err
	}
	pages := client.Pages(p.path, p.query)
	if pages.Next(ctx, func(oura.Record) error { return nil }) {
		return nil
	}
	if err := pages.Err(); err != nil {
		return err
	}
	return nil
}

// scopeProbes makes one probe per scope, in catalog order, each asking for as little as the
// collection allows: today for date collections, the last hour for time series.
func scopeProbes(now time.Time) []*scopeProbe {
	var out []*scopeProbe
	byScope := map[string]*scopeProbe{}
	for _, s := range streams.AllStreams() {
		if p, ok := byScope[s.Scope]; ok {
			p.streams = append(p.streams, s.Name)
			continue
		}
		p := &scopeProbe{scope: s.Scope, streams: []string{s.Name}, path: collectionPath(s, false), single: s.Params == streams.Single}
		now := now.UTC()
		switch s.Params {
		case streams.Dates:
			day := now.Format("2006-01-02")
			p.query = url.Values{"start_date": {day}, "end_date": {day}}
		case streams.DateTimes:
			p.query = url.Values{
				"start_datetime": {now.Add(-time.Hour).Truncate(time.Second).Format(time.RFC3339)},
				"end_datetime":   {now.Truncate(time.Second).Format(time.RFC3339)},
			}
		}
		byScope[s.Scope] = p
		out = append(out, p)
	}
	return out
}

// checkScopes runs every probe at once (about ten requests) and decides: FAILED when the token is
// rejected, when an answer cannot be read the way read reads it, or when the token can read no stream at all, SUCCEEDED with a WARN naming each stream it cannot read and
// the scope that stream needs when it can read some, and a transient error trace when Oura could not
// be reached for any of them.
func (r *run) checkScopes(ctx context.Context, client *oura.Client, needPersonal bool) int {
	probes := scopeProbes(r.env.Now())
	var wg sync.WaitGroup
	for _, p := range probes {
		wg.Add(1)
		go func(p *scopeProbe) {
			defer wg.Done()
			p.err = p.run(ctx, client)
		}(p)
	}
	wg.Wait()

	var readable int
	var lacking, broken, unusable []*scopeProbe
	var transient error
	for _, p := range probes {
		var oe *oura.Error
		switch {
		case p.err == nil:
			readable += len(p.streams)
		case errors.As(p.err, &oe) && oe.Kind == oura.Unauthorized:
			// The token itself is refused: nothing else matters.
			_ = r.out.ConnectionStatus(protocol.StatusFailed, p.err.Error())
			return ExitOK
		case errors.As(p.err, &oe) && oe.Kind == oura.Forbidden:
			lacking = append(lacking, p)
		case errors.As(p.err, &oe) && oe.Kind == oura.BadResponse && oe.Status >= 200 && oe.Status < 300:
			// The server answered, with something read cannot use ({"data":null}, a web page): unlike a
			// scope left out, no sync of these streams can work, so the check must not pass.
			unusable = append(unusable, p)
		case errors.As(p.err, &oe) && !oe.Transient():
			broken = append(broken, p)
		default:
			if transient == nil {
				transient = p.err
			}
			broken = append(broken, p)
		}
	}
	for _, p := range lacking {
		if needPersonal && slices.Contains(p.streams, "personal_info") { // account_column needs the user id: read would stop
			_ = r.out.ConnectionStatus(protocol.StatusFailed, accountIDError(p.err).Error())
			return ExitOK
		}
	}
	if len(unusable) > 0 {
		_ = r.out.ConnectionStatus(protocol.StatusFailed, fmt.Sprintf("Oura's answer for %s cannot be read, so a sync of these streams would fail: %v",
			strings.Join(unusable[0].streams, ", "), unusable[0].err))
		return ExitOK
	}
	if readable > 0 {
		if len(lacking)+len(broken) > 0 {
			msg := unreadableMessage(lacking, broken, readable)
			r.log.Warn().Msg(msg)
			_ = r.out.ConnectionStatus(protocol.StatusSucceeded, msg)
			return ExitOK
		}
		_ = r.out.ConnectionStatus(protocol.StatusSucceeded, "")
		return ExitOK
	}
	if transient != nil {
		if ctx.Err() != nil {
			_ = r.out.Error(protocol.TransientError, "The check was interrupted before Oura answered.", transient.Error(), nil)
			return ExitFailure
		}
		_ = r.out.Error(protocol.TransientError, "Could not reach the Oura API to check the connection: "+checkAdvice(transient, r.env.Now()), "", nil)
		return ExitFailure
	}
	if len(lacking) > 0 && len(broken) == 0 {
		_ = r.out.ConnectionStatus(protocol.StatusFailed, fmt.Sprintf("The token can read none of the %d streams: Oura refused "+
			"every collection, so the token lacks the scopes %s or the Oura membership is not active. Re-authorize the "+
			"connector and grant these scopes (first refusal: %v)", len(streams.AllStreams()), scopeList(lacking), lacking[0].err))
		return ExitOK
	}
	// Nothing readable for another reason (an app too old to share data, say): its own advice says more.
	_ = r.out.ConnectionStatus(protocol.StatusFailed, append(lacking, broken...)[0].err.Error())
	return ExitOK
}

// unreadableMessage is the one-line WARN of a check that passed with some streams out of reach.
func unreadableMessage(lacking, broken []*scopeProbe, readable int) string {
	var parts []string
	n := 0
	for _, p := range lacking {
		n += len(p.streams)
		parts = append(parts, fmt.Sprintf("%s (scope %q)", strings.Join(p.streams, ", "), p.scope))
	}
	for _, p := range broken {
		n += len(p.streams)
		parts = append(parts, fmt.Sprintf("%s (%v)", strings.Join(p.streams, ", "), p.err))
	}
	msg := fmt.Sprintf("The token can read %d of %d streams; these fail in a sync: %s.", readable, readable+n, strings.Join(parts, "; "))
	if len(lacking) > 0 {
		msg += " Re-authorize the connector granting the scopes named, or leave those streams out of the catalog."
	}
	return msg
}

func scopeList(ps []*scopeProbe) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.scope
	}
	return strings.Join(names, ", ")
}

// checkAdvice is a transient failure's text with advice for check: the client's own advice for a rate
// limit speaks of the next sync resuming from the last saved state, which means nothing to a check.
func checkAdvice(err error, now time.Time) string {
	var oe *oura.Error
	if !errors.As(err, &oe) {
		return err.Error()
	}
	switch {
	case oe.RetryAfter > 0 && oe.WaitCap() > 0:
		return fmt.Sprintf("%s; Oura asked to wait %s, longer than the %s the check waits: try the check again after %s",
			oe.Problem(), oe.RetryAfter, oe.WaitCap(), now.UTC().Add(oe.RetryAfter).Truncate(time.Second).Format(time.RFC3339))
	case oe.Kind == oura.RateLimited:
		return oe.Problem() + "; too many requests for now: try the check again in a few minutes"
	}
	return err.Error()
}

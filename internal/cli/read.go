package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"source-oura/internal/oura"
	"source-oura/protocol"
	"source-oura/streams"
)

// prefetchWindows is how many 30-day windows of one time-series stream are fetched ahead.
const prefetchWindows = 4

func (r *run) read(ctx context.Context) int {
	fail := func(ft protocol.FailureType, msg string) int {
		_ = r.out.Error(ft, msg, "", nil)
		return ExitFailure
	}
	cfg, err := r.loadConfig()
	if err != nil {
		return fail(protocol.ConfigError, err.Error())
	}
	jobs, err := r.jobs()
	if err != nil {
		return fail(protocol.ConfigError, err.Error())
	}
	client, err := r.client(cfg, false)
	if err != nil {
		return fail(protocol.ConfigError, err.Error())
	}
	if !cfg.Sandbox && !hasStream(jobs, "personal_info") {
		// When personal_info is synced, the reader logs the id from that record instead,
		// so the document is not fetched twice.
		r.logAccount(ctx, client)
	}
	validator, err := streams.NewValidator()
	if err != nil {
		return fail(protocol.SystemError, "The connector's stream schemas do not compile: "+err.Error())
	}
	reader := &streams.Reader{
		Client:       client,
		Out:          r.out,
		Log:          r.log,
		Start:        cfg.Start,
		End:          cfg.End,
		LookbackDays: cfg.LookbackDays,
		Sandbox:      cfg.Sandbox,
		Concurrency:  cfg.MaxConcurrent,
		Prefetch:     prefetchWindows,
		Validator:    validator,
		Now:          r.env.Now,
	}
	err = reader.Read(ctx, jobs)
	if werr := r.out.Err(); werr != nil {
		// stdout is gone (the reader of the pipe left): nothing more can be said there.
		return ExitFailure
	}
	if err == nil {
		return ExitOK
	}
	var se *streams.SyncError
	if errors.As(err, &se) {
		ft := se.Type
		if ctx.Err() != nil {
			ft = protocol.TransientError
			_ = r.out.Error(ft, "The sync was stopped before it finished. "+err.Error(), "", nil)
			return ExitFailure
		}
		return fail(ft, err.Error())
	}
	return fail(protocol.SystemError, err.Error())
}

func hasStream(jobs []streams.Job, name string) bool {
	for _, j := range jobs {
		if j.Stream.Name == name {
			return true
		}
	}
	return false
}

// logAccount logs the Oura account's id once per sync, so that the syncs of several accounts
// (one config each) can be told apart without adding anything to the records. Only a token with
// the personal scope can read it; any failure stays at DEBUG and never stops the sync. The
// sandbox has no personal_info route.
func (r *run) logAccount(ctx context.Context, client *oura.Client) {
	id, err := accountID(ctx, client)
	if err != nil {
		r.log.Debug().Msgf("the Oura account id is not logged: %v", err)
		return
	}
	r.log.Info().Str("account_id", id).Msg("syncing Oura account")
}

// accountID reads the id of the account the token belongs to from personal_info.
func accountID(ctx context.Context, client *oura.Client) (string, error) {
	body, err := client.Get(ctx, "/v2/usercollection/personal_info", nil)
	if err != nil {
		return "", err
	}
	var info struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &info); err != nil || info.ID == "" {
		return "", errors.New("personal_info has no id")
	}
	return info.ID, nil
}

// jobs reads --catalog and --state and pairs each configured stream with its state. Every
// problem is a config error naming the file and the stream: an unknown stream, a sync mode
// the stream does not support, or a state blob that cannot be read.
func (r *run) jobs() ([]streams.Job, error) {
	data, err := protocol.ReadJSONFile("catalog", r.args.catalog, false)
	if err != nil {
		return nil, err
	}
	cat, err := protocol.ParseCatalog(r.args.catalog, data)
	if err != nil {
		return nil, err
	}
	var state *protocol.InputState
	if r.args.state != "" {
		sdata, err := protocol.ReadJSONFile("state", r.args.state, true)
		if err != nil {
			return nil, err
		}
		if state, err = protocol.ParseState(r.args.state, sdata); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	var jobs []streams.Job
	for _, cs := range cat.Streams {
		s, ok := streams.Lookup(cs.Stream.Name)
		if !ok {
			return nil, &protocol.FileError{Kind: "catalog", Path: r.args.catalog,
				Problem: fmt.Sprintf("names stream %q, which this connector does not have; run discover for the list", cs.Stream.Name)}
		}
		if seen[s.Name] {
			return nil, &protocol.FileError{Kind: "catalog", Path: r.args.catalog, Problem: fmt.Sprintf("names stream %q twice", s.Name)}
		}
		seen[s.Name] = true
		if cs.SyncMode == protocol.Incremental && !s.Incremental() {
			return nil, &protocol.FileError{Kind: "catalog", Path: r.args.catalog,
				Problem: fmt.Sprintf("asks for incremental sync of %s, which supports only full_refresh", s.Name)}
		}
		desc := protocol.StreamDescriptor{Name: cs.Stream.Name, Namespace: cs.Stream.Namespace}
		job := streams.Job{Stream: s, Mode: cs.SyncMode, Desc: desc}
		if cs.SyncMode == protocol.Incremental {
			if blob, ok := state.Get(desc); ok {
				if err := s.CheckState(blob); err != nil {
					return nil, fmt.Errorf("state file %s: %w", r.args.state, err)
				}
				job.State = blob
			}
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

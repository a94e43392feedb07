package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"source-oura/internal/config"
	"source-oura/internal/oura"
	"source-oura/protocol"
	"source-oura/schemas"
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
	jobs, err := r.jobs(cfg)
	if err != nil {
		return fail(protocol.ConfigError, err.Error())
	}
	prog := r.startProgress(jobs, cfg.Sandbox) // before the client, whose requests it counts
	client, err := r.client(cfg, false)
	if err != nil {
		return fail(protocol.ConfigError, err.Error())
	}
	validator, err := schemas.NewValidator()
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
		Progress:     prog,
	}
	if reader.Account, err = r.accountColumn(ctx, cfg, reader); err != nil {
		if ctx.Err() != nil {
			// Stopped (SIGTERM) while the account was looked up: not a problem of the config.
			return fail(protocol.TransientError, "The sync was stopped before any stream started.")
		}
		return fail(failureOf(err), err.Error())
	}
	err = reader.Read(ctx, jobs)
	if werr := r.out.Err(); werr != nil {
		// stdout is gone (the reader of the pipe left): nothing more can be said there.
		return ExitFailure
	}
	if err == nil {
		return ExitOK
	}
	var ae *streams.AuthError
	var ue *streams.UnreachableError
	var se *streams.SyncError
	switch {
	case ctx.Err() != nil && (errors.As(err, &ae) || errors.As(err, &ue) || errors.As(err, &se)):
		return fail(protocol.TransientError, "The sync was stopped before it finished. "+err.Error())
	case errors.As(err, &ae):
		// One error for the whole sync: what to do about the credentials.
		return fail(protocol.ConfigError, err.Error())
	case errors.As(err, &ue):
		// One error for the whole sync: Oura is gone for now (the next sync resumes), or base_url
		// can never answer.
		return fail(ue.Type, err.Error())
	case errors.As(err, &se):
		return fail(se.Type, err.Error())
	}
	return fail(protocol.SystemError, err.Error())
}

// accountColumn decides the account column of every record (config account_column). Off, it
// returns none, and the reader logs the account id once per sync when the token can read it; a
// failure never stops the sync: a token without the personal scope is a choice (DEBUG), any other
// failure (Oura down, no answer within the lookup's limit) is a WARN. With a label it returns the label. Without one
// it returns the Oura user id, read once from personal_info before any stream; a token that cannot
// read it is an error saying to grant the personal scope or give a label, because records without
// their account would collide with the other accounts' rows in shared tables. An id Oura sends
// that is too long or holds control characters (streams.UnusableAccountIDError) is refused
// likewise, saying a label avoids it.
func (r *run) accountColumn(ctx context.Context, cfg *config.Config, reader *streams.Reader) (protocol.AccountColumn, error) {
	switch {
	case !cfg.Account.Enabled:
		if !cfg.Sandbox {
			if _, err := reader.AccountID(ctx); err != nil {
				var oe *oura.Error
				if (errors.As(err, &oe) && oe.Kind == oura.Forbidden) || ctx.Err() != nil {
					r.log.Debug().Msgf("the Oura account id is not logged: %v", err)
				} else {
					r.log.Warn().Msgf("could not read the Oura account id from personal_info, so it is not logged; the sync goes on: %v", err)
				}
			}
		}
		return protocol.AccountColumn{}, nil
	case cfg.Account.Label != "":
		r.log.Info().Str(config.AccountColumnName, cfg.Account.Label).Msg("every record carries the account label given in account_column")
		return protocol.AccountColumn{Name: config.AccountColumnName, Value: cfg.Account.Label}, nil
	}
	id, err := reader.AccountID(ctx)
	var bad *streams.UnusableAccountIDError
	if errors.As(err, &bad) {
		// Granting a scope would not help: Oura answered, with an id no record should carry.
		return protocol.AccountColumn{}, fmt.Errorf("config field \"account_column\" is on without a label, so every record "+
			"carries the Oura user id, but %w: set account_column.label to name the account instead", err)
	}
	if err != nil {
		return protocol.AccountColumn{}, accountIDError(err)
	}
	r.log.Info().Msg("every record carries the Oura user id in " + config.AccountColumnName)
	return protocol.AccountColumn{Name: config.AccountColumnName, Value: id}, nil
}

// accountIDError says what to do when account_column needs the user id and personal_info
// cannot be read (err); check and read say the same.
func accountIDError(err error) error {
	advice := "grant the connector the personal scope, or set account_column.label to name the account"
	if oe := (*oura.Error)(nil); errors.As(err, &oe) && oe.Transient() {
		// Oura did not answer: no scope is missing.
		advice = "try again later, or set account_column.label to name the account so the sync does not need personal_info"
	}
	return fmt.Errorf("config field \"account_column\" is on without a label, so every record carries the Oura user id, "+
		"but the connector could not read it from personal_info (%w): %s", err, advice)
}

// failureOf says whose problem err is: transient when Oura may answer later (rate limit,
// outage), so the platform retries, and the user's to fix otherwise.
func failureOf(err error) protocol.FailureType {
	var oe *oura.Error
	if (errors.As(err, &oe) && oe.Transient()) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return protocol.TransientError
	}
	return protocol.ConfigError
}

// accountColumnName is the account column the config asks for, "" for none.
func accountColumnName(cfg *config.Config) string {
	if cfg.Account.Enabled {
		return config.AccountColumnName
	}
	return ""
}

// jobs reads --catalog and --state and pairs each configured stream with its state. Without
// --catalog every stream is read; a catalog from discover gets its sync modes chosen here. Every
// problem is a config error naming the file and the stream: an unknown stream, a sync mode the
// stream does not support, or a state blob that cannot be read.
func (r *run) jobs(cfg *config.Config) ([]streams.Job, error) {
	account := accountColumnName(cfg)
	cat, err := r.catalog()
	if err != nil {
		return nil, err
	}
	r.warnAccountKeys(cat, account)
	state, err := r.state()
	if err != nil {
		return nil, err
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
		if r.args.catalog != "" {
			// The columns Airbyte keeps; without --catalog nothing filters the records.
			job.Schema = cs.Stream.JSONSchema
		}
		if cs.SyncMode == protocol.Incremental {
			if len(cs.CursorField) > 0 && !slices.Equal(cs.CursorField, []string{s.Cursor}) {
				// The reader keeps its own cursor (source_defined_cursor in discover); saying nothing
				// would let a user believe the sync follows the field they chose.
				r.log.Warn().Msgf("catalog file %s: stream %s has cursor_field %q, but its cursor is source-defined (%q) and the "+
					"given one is ignored; leave cursor_field out or set it to [%q]", r.args.catalog, s.Name, cs.CursorField, s.Cursor, s.Cursor)
			}
			if blob, ok := state.Get(desc); ok {
				if err := s.CheckState(blob); err != nil {
					return nil, fmt.Errorf("state file %s: %w", r.args.state, err)
				}
				if c, after := s.CursorAfterEnd(blob, cfg.End, cfg.LookbackDays); after {
					r.log.Warn().Msgf("state for %s holds cursor %s, after end_datetime %s in config file %s: nothing is read "+
						"(state file %s); move end_datetime later, or reset the stream in Airbyte if the cursor is wrong",
						s.Name, c, boundText(cfg.End), r.args.config, r.args.state)
				} else if c, future := s.FutureCursor(blob, r.env.Now()); future {
					r.log.Warn().Msgf("state for %s holds cursor %s, after today: nothing newer is read until then; "+
						"reset the stream in Airbyte if this is wrong (state file %s)", s.Name, c, r.args.state)
				}
				job.State = blob
			}
		}
		jobs = append(jobs, job)
	}
	r.warnUnusedState(state, seen)
	return jobs, nil
}

// state reads --state, nil without one. An empty file is no state, as the contract asks of a
// source (Airbyte itself passes no --state then, but its acceptance tests may pass an empty
// file); by hand it is more often a redirect that failed, so a WARN names the file and says the
// incremental streams start over from start_datetime. A config passed by mistake is refused
// rather than read as the state of streams named api_key and base_url, and a read's output
// given as is gets an INFO line saying its last states are used.
func (r *run) state() (*protocol.InputState, error) {
	if r.args.state == "" {
		return nil, nil
	}
	data, err := protocol.ReadJSONFile("state", r.args.state, true)
	if err != nil {
		return nil, err
	}
	state, err := protocol.ParseState(r.args.state, data)
	if err != nil {
		return nil, err
	}
	if keys := r.configKeys(state); len(keys) > 0 {
		return nil, &protocol.FileError{Kind: "state", Path: r.args.state, Problem: fmt.Sprintf(
			"looks like a config file (it has %s), not a state; pass the STATE messages a read wrote", strings.Join(keys, ", "))}
	}
	switch n, fromOutput := state.FromReadOutput(); {
	case len(data) == 0:
		r.log.Warn().Msgf("state file %s is empty: no stream has state, so the incremental streams read from start_datetime", r.args.state)
	case fromOutput:
		r.log.Info().Msgf("state file %s is the output of a read: using the last STATE message of each stream (streams with state: %d, STATE messages: %d); its other messages are ignored",
			r.args.state, state.Len(), n)
	}
	return state, nil
}

// configKeys returns the top-level config fields (spec.json's properties) that the state names
// as streams, sorted: a config file passed as --state. None is a stream name.
func (r *run) configKeys(state *protocol.InputState) []string {
	var spec struct {
		ConnectionSpecification struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"connectionSpecification"`
	}
	if json.Unmarshal(r.env.Spec, &spec) != nil {
		return nil // a broken spec is reported where the config is read
	}
	var keys []string
	for _, d := range state.Streams() {
		if _, ok := spec.ConnectionSpecification.Properties[d.Name]; ok {
			keys = append(keys, d.Name)
		}
	}
	return keys
}

// warnAccountKeys says, in one WARN, when the catalog's primary keys disagree with the
// account_column setting (account: the column, "" when off). Airbyte keeps the catalog of the
// last schema refresh: turned on without a refresh, the destination drops the column it does
// not know and dedups on the old keys, so two people's rows still replace each other; turned
// off, it dedups on a column the records no longer carry.
func (r *run) warnAccountKeys(cat *protocol.ConfiguredCatalog, account string) {
	if r.args.catalog == "" {
		return // no catalog to be stale: the streams' own keys are used
	}
	var stale []string
	for _, cs := range cat.Streams {
		pk := cs.PrimaryKey
		if len(pk) == 0 {
			pk = cs.Stream.SourceDefinedPrimaryKey
		}
		if len(pk) == 0 {
			continue
		}
		keyed := slices.ContainsFunc(pk, func(k []string) bool { return len(k) == 1 && k[0] == config.AccountColumnName })
		if keyed != (account != "") {
			stale = append(stale, cs.Stream.Name)
		}
	}
	if len(stale) == 0 {
		return
	}
	what := "do not start with " + config.AccountColumnName + ", though account_column is on"
	if account == "" {
		what = "include " + config.AccountColumnName + ", though account_column is off and records do not carry it"
	}
	r.log.Warn().Msgf("catalog file %s: the primary keys of %s %s; refresh the source schema in Airbyte (or run discover again) so that the destination keys each account's rows apart",
		r.args.catalog, strings.Join(stale, ", "), what)
}

// catalog reads --catalog in any shape ParseAnyCatalog accepts, or makes one of every stream
// when there is none, and says in one INFO line which sync modes it chose.
func (r *run) catalog() (*protocol.ConfiguredCatalog, error) {
	incremental := func(name string) bool {
		s, ok := streams.Lookup(name)
		return ok && s.Incremental()
	}
	if r.args.catalog == "" {
		disc, err := streams.Catalog()
		if err != nil {
			return nil, err
		}
		cat := &protocol.ConfiguredCatalog{}
		for _, s := range disc.Streams {
			cs := protocol.ConfiguredStream{Stream: s, SyncMode: protocol.FullRefresh, DestinationSyncMode: protocol.Overwrite}
			if incremental(s.Name) {
				cs.SyncMode, cs.DestinationSyncMode = protocol.Incremental, protocol.AppendDedup
			}
			cat.Streams = append(cat.Streams, cs)
		}
		r.logChosenModes("no --catalog given: reading every stream", cat)
		return cat, nil
	}
	data, err := protocol.ReadJSONFile("catalog", r.args.catalog, false)
	if err != nil {
		return nil, err
	}
	cat, chosen, err := protocol.ParseAnyCatalog(r.args.catalog, data, incremental)
	if err != nil {
		return nil, err
	}
	if chosen {
		r.logChosenModes(fmt.Sprintf("catalog file %s is a catalog from discover, without sync modes", r.args.catalog), cat)
	}
	return cat, nil
}

// logChosenModes says, in one line, which streams run incrementally and which in full.
func (r *run) logChosenModes(why string, cat *protocol.ConfiguredCatalog) {
	var inc, full []string
	for _, cs := range cat.Streams {
		if cs.SyncMode == protocol.Incremental {
			inc = append(inc, cs.Stream.Name)
		} else {
			full = append(full, cs.Stream.Name)
		}
	}
	msg := why + ": incremental + append_dedup for " + listOrNone(inc) + "; full_refresh + overwrite for " + listOrNone(full)
	if r.args.state == "" && len(inc) > 0 {
		msg += " (no --state given: the incremental streams start from start_datetime)"
	}
	r.log.Info().Msg(msg)
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// warnUnusedState names, in one WARN, the streams the state file has state for but the catalog
// does not select: most often a state file of another connector or connection, which would
// otherwise be ignored without a word.
func (r *run) warnUnusedState(state *protocol.InputState, selected map[string]bool) {
	var unused []string
	for _, d := range state.Streams() {
		if selected[d.Name] {
			continue
		}
		name := d.Name
		if d.Namespace != "" {
			name = d.Namespace + "." + d.Name
		}
		unused = append(unused, strconv.Quote(name))
	}
	if len(unused) == 0 {
		return
	}
	const maxNamed = 20 // a state file of another connector can name hundreds of streams
	more := ""
	if len(unused) > maxNamed {
		more = fmt.Sprintf(" and %d more", len(unused)-maxNamed)
		unused = unused[:maxNamed]
	}
	r.log.Warn().Msgf("state file %s has state for streams the catalog does not select, which is ignored: %s%s; "+
		"check that it is this connection's state", r.args.state, strings.Join(unused, ", "), more)
}

// boundText writes end_datetime as the user likely wrote it: a date when it is the last instant
// of a day (the config reads a date as that whole day), an RFC 3339 instant otherwise.
func boundText(t time.Time) string {
	t = t.UTC()
	if next := t.Add(time.Nanosecond); next.Equal(next.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

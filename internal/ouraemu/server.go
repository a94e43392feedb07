package ouraemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Server.
type Options struct {
	// Dataset is what the live routes (/v2/usercollection/...) serve. Nil serves no data.
	Dataset *Dataset
	// Sandbox is what the sandbox routes (/v2/sandbox/usercollection/...) serve. Nil means
	// they serve Dataset.
	Sandbox *Dataset
	// PageSize is the most documents one list page holds (default 1000).
	PageSize int
	// Now is the server's clock: it sets the default query windows and token expiry
	// (default time.Now). Tests pass a fake clock to move time.
	Now func() time.Time
	// Tokens maps static access tokens to the scopes each grants, like Oura's personal access
	// tokens: they never expire and RevokeAccessTokens leaves them alone.
	Tokens map[string][]string
	// Clients maps OAuth client ids to their secrets.
	Clients map[string]string
	// DeveloperPortalApp plays apps registered on Oura's newer developer portal: the classic
	// /oauth/token refuses their refreshes with 400 invalid_request; PortalTokenPath works.
	DeveloperPortalApp bool
	// MissingScopeStatus is the status answered when a token lacks a collection's scope:
	// 403 (default, as documented) or 401 (as some clients have reported seeing).
	MissingScopeStatus int
	// RequestLogLimit, when positive, bounds the request log to about that many most recent
	// entries; zero keeps everything, which suits tests but not a long-running process.
	RequestLogLimit int
	// OnRequest, when set, is called after each request with its log entry, e.g. to print it.
	// It runs on the request's goroutine, so it must be safe for concurrent use.
	OnRequest func(Request)
	// NewFields are top-level fields added to every served document of chosen collections,
	// as Oura does in a new API revision (see NewField).
	NewFields []NewField
	// Accounts serves other Oura accounts: each static token in it (which Tokens must list too,
	// for its scopes) reads that Dataset on the live routes instead of Dataset, as a second
	// person's token would. Generate with another seed makes one, with its own user id; seed
	// 107's heart-rate grid falls on the same minutes as seed 1's, like two rings worn at once.
	Accounts map[string]*Dataset
}

// Server is a local Oura API v2: an http.Handler serving a Dataset with the real query
// semantics, bearer auth with scopes, an OAuth token endpoint and injectable faults.
// It is safe for concurrent use.
type Server struct {
	opts Options
	// newFields holds, per collection, the bytes Options.NewFields add to each document.
	newFields map[string][]byte

	mu      sync.RWMutex // guards data and sandbox, and the documents inside them
	data    *Dataset
	sandbox *Dataset // nil: the sandbox routes serve data

	authMu  sync.Mutex
	access  map[string]*accessToken
	revoked map[string]bool
	refresh map[string]*refreshToken
	codes   map[string]*authCode

	faultMu sync.Mutex
	faults  Faults
	fstate  faultState

	logMu    sync.Mutex
	log      []Request
	arrivals atomic.Int64 // numbers requests as they arrive
	recorded atomic.Int64 // requests entered in the log (each arrival is, when its handler ends)

	// wait is how injected latency is spent; tests replace it to observe latency untimed.
	wait func(ctx context.Context, d time.Duration)
}

// NewServer returns a Server for opts, filling in the defaults.
func NewServer(opts Options) *Server {
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MissingScopeStatus == 0 {
		opts.MissingScopeStatus = http.StatusForbidden
	}
	// Copy the maps so a caller changing theirs later cannot race with requests.
	tokens := make(map[string][]string, len(opts.Tokens))
	for tok, scopes := range opts.Tokens {
		tokens[tok] = slices.Clone(scopes)
	}
	opts.Tokens = tokens
	opts.Clients = maps.Clone(opts.Clients)
	opts.Accounts = maps.Clone(opts.Accounts)
	return &Server{
		opts:    opts,
		data:    orEmpty(opts.Dataset),
		sandbox: opts.Sandbox,
		access:  map[string]*accessToken{},
		revoked: map[string]bool{},
		refresh: map[string]*refreshToken{},
		codes:   map[string]*authCode{},
		wait:    sleep,

		newFields: newFieldSuffixes(opts.NewFields),
	}
}

func orEmpty(d *Dataset) *Dataset {
	if d == nil {
		return &Dataset{Docs: map[string][]Doc{}}
	}
	return d
}

func (s *Server) now() time.Time { return s.opts.Now() }

// SetDataset swaps the data the live routes serve, e.g. for one with more days. Sandbox
// routes follow it when Options.Sandbox was nil.
func (s *Server) SetDataset(d *Dataset) {
	s.mu.Lock()
	s.data = orEmpty(d)
	s.mu.Unlock()
}

// Revise changes one document of the live data the way a late re-analysis would (see
// Dataset.Revise) and returns its new version. It holds the server's lock so requests never
// see a half-made change.
func (s *Server) Revise(collection, id string) (Doc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, err := s.data.Revise(collection, id)
	if err != nil {
		return Doc{}, fmt.Errorf("emulator revising live data: %w", err)
	}
	return doc, nil
}

// reply is an answer before it is written: handlers return one so faults, logging and the
// writing itself live in one place.
type reply struct {
	status int
	body   []byte
	header http.Header
	// page marks a successful list page, counted for Faults.FailAfterPages.
	page bool
	// fault names an injected fault that shaped this reply.
	fault string
}

// detailReply builds the API's usual error body, {"detail": "..."}.
func detailReply(status int, detail string) reply {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Details quote things like 'Bearer <token>'; keep them readable rather than \u003c.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string{"detail": detail}); err != nil {
		return reply{status: status, body: []byte(`{"detail":"error"}`)}
	}
	return reply{status: status, body: bytes.TrimSuffix(buf.Bytes(), []byte("\n"))}
}

func writeReply(w http.ResponseWriter, rep reply) {
	h := w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	if rep.body != nil {
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	}
	w.WriteHeader(rep.status)
	if rep.body != nil {
		_, _ = w.Write(rep.body)
	}
}

// route is a parsed request path.
type route struct {
	kind       routeKind
	sandbox    bool
	collection string
	id         string // single-document routes only
}

type routeKind int

const (
	routeNone routeKind = iota
	routeList
	routeDocument
	routeToken
	routeAuthorize
)

// isCollection is a set of the served collections.
var isCollection = func() map[string]bool {
	m := make(map[string]bool, len(Collections))
	for _, c := range Collections {
		m[c] = true
	}
	return m
}()

// parseRoute maps a path to a route; routeNone means 404.
func parseRoute(path string) route {
	switch path {
	case "/oauth/token", PortalTokenPath:
		return route{kind: routeToken}
	case "/oauth/authorize", PortalAuthorizePath:
		return route{kind: routeAuthorize}
	}
	var rest string
	var sandbox bool
	if r, ok := strings.CutPrefix(path, "/v2/usercollection/"); ok {
		rest = r
	} else if r, ok := strings.CutPrefix(path, "/v2/sandbox/usercollection/"); ok {
		rest, sandbox = r, true
	} else {
		return route{}
	}
	collection, id, hasID := strings.Cut(rest, "/")
	if !isCollection[collection] || (sandbox && collection == "personal_info") {
		return route{}
	}
	if !hasID {
		return route{kind: routeList, sandbox: sandbox, collection: collection}
	}
	if id == "" || strings.Contains(id, "/") {
		return route{}
	}
	switch kindOf(collection) {
	case kindSeries, kindPersonal:
		return route{} // these collections have no single-document route
	}
	return route{kind: routeDocument, sandbox: sandbox, collection: collection, id: id}
}

// ServeHTTP answers one request and records it in the request log.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	entry := Request{
		Time:       s.now(),
		Method:     r.Method,
		Path:       r.URL.Path,
		Query:      q,
		AuthScheme: authScheme(q, r.Header.Get("Authorization")),
		seq:        s.arrivals.Add(1),
	}
	// Record even when a dropped connection aborts the handler.
	defer func() { s.record(entry) }()
	entry.Status, entry.Fault = s.serve(w, r)
}

// serve answers a request and returns the status written (0 if none) and the fault used.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) (int, string) {
	rt := parseRoute(r.URL.Path)
	var rep reply
	switch rt.kind {
	case routeNone:
		rep = detailReply(http.StatusNotFound, "Not Found")
	case routeToken:
		rep = s.onlyMethod(r, http.MethodPost, s.handleToken)
	case routeAuthorize:
		rep = s.onlyMethod(r, http.MethodGet, s.handleAuthorize)
	default:
		if r.Method != http.MethodGet {
			rep = methodNotAllowed(http.MethodGet)
			break
		}
		return s.serveData(w, r, rt)
	}
	writeReply(w, rep)
	return rep.status, rep.fault
}

func (s *Server) onlyMethod(r *http.Request, method string, h func(*http.Request) reply) reply {
	if r.Method != method {
		return methodNotAllowed(method)
	}
	return h(r)
}

func methodNotAllowed(allow string) reply {
	rep := detailReply(http.StatusMethodNotAllowed, "Method Not Allowed")
	rep.header = http.Header{"Allow": {allow}}
	return rep
}

// serveData answers a data route: auth, scope, faults, then the data itself.
func (s *Server) serveData(w http.ResponseWriter, r *http.Request, rt route) (int, string) {
	if f, ok := s.faultsFor(rt.collection); ok && f.Latency > 0 {
		s.wait(r.Context(), f.Latency)
	}
	scopes, aerr := s.bearer(r)
	if aerr != nil {
		rep := detailReply(aerr.status, aerr.detail)
		rep.header = http.Header{"Www-Authenticate": {"Bearer"}}
		writeReply(w, rep)
		return rep.status, ""
	}
	// Sandbox routes need a valid token but no particular scope.
	if need := ScopeOf(rt.collection); !rt.sandbox && !slices.Contains(scopes, need) {
		rep := detailReply(s.opts.MissingScopeStatus,
			fmt.Sprintf("Missing required scope: %s. The access token does not grant the %q scope needed for %s.",
				need, need, rt.collection))
		writeReply(w, rep)
		return rep.status, ""
	}

	if rep, ok := s.refuseFields(r, rt); ok {
		writeReply(w, rep)
		return rep.status, FaultRefuseFields
	}
	rep, fault, drop := s.preFault(rt.collection)
	if drop {
		dropConnection(w)
		return 0, fault
	}
	if fault != "" {
		writeReply(w, rep)
		return rep.status, fault
	}

	rep = s.dataReply(r, rt)
	if rep.status == http.StatusOK && s.truncateNext(rt.collection) {
		writeTruncated(w, rep)
		return rep.status, FaultTruncate
	}
	writeReply(w, rep)
	if rep.page {
		s.pageServed(rt.collection)
	}
	return rep.status, rep.fault
}

// dataReply looks the data up and builds the answer for a data route.
func (s *Server) dataReply(r *http.Request, rt route) reply {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ds := s.data
	if acc := s.opts.Accounts[bearerToken(r)]; acc != nil {
		ds = acc
	}
	if rt.sandbox && s.sandbox != nil {
		ds = s.sandbox
	}

	if rt.kind == routeDocument {
		for _, d := range ds.Docs[rt.collection] {
			if d.ID == rt.id {
				return reply{status: http.StatusOK, body: slices.Clone(s.withNewFields(rt.collection, d.JSON))}
			}
		}
		return detailReply(http.StatusNotFound, "Document not found.")
	}

	kind := kindOf(rt.collection)
	if kind == kindPersonal {
		if ds.PersonalInfo == nil {
			return detailReply(http.StatusNotFound, "Document not found.")
		}
		return reply{status: http.StatusOK, body: slices.Clone(s.withNewFields(rt.collection, ds.PersonalInfo))}
	}

	q := r.URL.Query()
	docs := ds.Docs[rt.collection]
	var tok pageToken
	var err error
	raw := q.Get("next_token")
	if raw != "" {
		// The token carries the original window, so any resent dates are not re-read.
		tok, err = decodePageToken(raw, rt.collection)
	} else {
		tok, err = s.firstPage(q, rt.collection, kind)
	}
	if err != nil {
		var qe *queryError
		if errors.As(err, &qe) {
			return detailReply(http.StatusBadRequest, qe.detail)
		}
		return detailReply(http.StatusInternalServerError, err.Error())
	}

	lo, hi := 0, len(docs)
	if kind != kindAll {
		lo, hi = keyRange(docs, window{start: tok.Start, end: tok.End})
	}
	from := min(lo+tok.Offset, hi)
	to := min(from+s.opts.PageSize, hi)

	next, fault := "", ""
	if f, ok := s.faultsFor(rt.collection); ok && f.EndlessNextToken {
		// Hand back the token that leads to this very page, so a client following it gets the
		// same page and the same token again.
		next, fault = raw, FaultEndlessToken
		if next == "" {
			next = tok.encode()
		}
	} else if to < hi {
		tok.Offset = to - lo
		next = tok.encode()
	}
	served := s.docsWithNewFields(rt.collection, docs[from:to])
	if !rt.sandbox { // the sandbox routes take no fields parameter
		served = projectDocs(served, fieldSet(q, rt.collection))
	}
	return reply{status: http.StatusOK, body: envelope(served, next), page: true, fault: fault}
}

// firstPage turns the query of a request without next_token into the token of its first page.
func (s *Server) firstPage(q url.Values, collection string, kind collectionKind) (pageToken, error) {
	tok := pageToken{Collection: collection}
	var w window
	var err error
	switch kind {
	case kindDate:
		w, err = dateWindow(q, s.now())
	case kindSeries:
		w, err = seriesWindow(q, s.now())
	default:
		return tok, nil
	}
	if err != nil {
		return pageToken{}, err
	}
	tok.Start, tok.End = w.start, w.end
	return tok, nil
}

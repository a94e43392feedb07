package oura

import "source-oura/internal/netpolicy"

// refusedRedirect turns a redirect the client's netpolicy.CheckRedirect refused (another origin, or too many
// hops) into the request's final error; nil for any other failure. It is not retried: the server would send
// the same redirect again, and following it would hand the token to whoever is behind it.
func refusedRedirect(err error) *Error {
	re, ok := netpolicy.AsRedirect(err)
	if !ok {
		return nil
	}
	return &Error{Kind: BadResponse, Status: re.Status, Err: re}
}

// redirected reports whether e is a refused redirect, which only a change of base_url can fix.
func (e *Error) redirected() bool {
	_, ok := netpolicy.AsRedirect(e.Err)
	return ok
}

package jsonscan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Shape errors: the body is JSON, or starts like JSON, but is not a list page. Asking again will not change
// it. They end up as the Detail of the client's BadResponse error.
var (
	ErrNotObject    = errors.New(`the body is not a JSON object`)
	ErrNoData       = errors.New(`the body has no "data" array`)
	ErrDataNotArray = errors.New(`"data" is not an array`)
	ErrBadNextToken = errors.New(`"next_token" is neither a string nor null`)
)

// MaxNextToken is the longest next_token, in bytes as sent (between the quotes), a page may carry. Oura's are
// short opaque strings; the walk sends each one back in a URL and remembers it to catch a loop, so a server
// handing out huge ones must be refused, not followed.
const MaxNextToken = 4 << 10

// ErrLongNextToken: the page's next_token is longer than MaxNextToken. The error that wraps it gives the
// length, never the token.
var ErrLongNextToken = errors.New(`"next_token" is too long`)

// ErrTooLarge: one element of the page (or one value beside "data") is larger than MaxRecord.
var ErrTooLarge = fmt.Errorf("one element of the page is larger than the %d MiB a record may take", MaxRecord>>20)

// CutError says the body ended, or its connection failed, before the page was complete: the same request
// asked again is likely to succeed.
type CutError struct {
	// Offset is how many bytes of the body had arrived.
	Offset int64
	// Err is the read error, or ErrSyntax for a body that stops (or turns to garbage) mid-page.
	Err error
}

func (e *CutError) Error() string {
	return fmt.Sprintf("the response was cut off after %d bytes: %v", e.Offset, e.Err)
}

func (e *CutError) Unwrap() error { return e.Err }

// Element is one element of a page's "data" array.
type Element struct {
	// Raw is the element's bytes as Oura sent them, or with U+FFFD for invalid UTF-8 (Result.BadUTF8). They
	// are valid only until the next call of Next.
	Raw []byte
	Result
	// TooDeep: nested deeper than MaxDepth. Such an element is not checked further and must not be written.
	TooDeep bool
}

// PageReader splits a list response {"data":[...],"next_token":...} into its elements as the body arrives.
// Keys may come in any order; other top-level keys are skipped. It holds at most one element (plus one read
// of readSize) at a time, and never more than MaxRecord+readSize bytes, whatever Content-Length says.
type PageReader struct {
	r           io.Reader
	schema      *Schema
	cursorField string

	buf      []byte
	pos      int   // next unread byte of buf
	base     int64 // body offset of buf[0]
	eof      bool
	readErr  error
	state    pageState
	key      string
	sawData  bool
	token    string
	sc       scanner
	elements int
	keys     int // top-level keys seen
	chunk    int // the buffer's first size and least growth: readSize, smaller in tests
}

type pageState uint8

const (
	psBegin     pageState = iota // before '{'
	psKey                        // before a key
	psValue                      // before the value of key
	psDataFirst                  // after '[' of "data"
	psElem                       // before an element
	psElemAfter                  // after an element: ',' or ']'
	psAfter                      // after a top-level value: ',' or '}'
	psTrail                      // after '}': only whitespace may follow
	psDone
)

// readSize is how much is asked of the body at a time.
const readSize = 64 << 10

// NewPageReader reads a page from r, checking each element against s (nil: any value) and taking its
// top-level string value of cursorField.
func NewPageReader(r io.Reader, s *Schema, cursorField string) *PageReader {
	return &PageReader{r: r, schema: s, cursorField: cursorField, buf: make([]byte, 0, readSize), chunk: readSize}
}

// NextToken is the page's next_token ("" for null or absent); it is known once Next has returned io.EOF.
func (p *PageReader) NextToken() string { return p.token }

// Offset is how many bytes of the body have been consumed.
func (p *PageReader) Offset() int64 { return p.base + int64(p.pos) }

// Next returns the next element of "data". It returns io.EOF once the whole page has been read and checked,
// a *CutError when the body ends early or is not JSON, a shape error (ErrNotObject and friends) or
// ErrTooLarge.
func (p *PageReader) Next() (Element, error) {
	for {
		el, got, st, err := p.step()
		if err != nil {
			p.state = psDone
			return Element{}, err
		}
		switch st {
		case stOK:
			if got {
				p.elements++
				return el, nil
			}
			if p.state == psDone {
				return Element{}, io.EOF
			}
		case stShort:
			if err := p.fill(); err != nil {
				p.state = psDone
				return Element{}, err
			}
		default:
			p.state = psDone
			return Element{}, &CutError{Offset: p.Offset(), Err: ErrSyntax}
		}
	}
}

// fill reads more of the body. The unread bytes move to the front of the buffer first; when they fill half
// of it, the buffer doubles (up to MaxRecord plus one read, allocated once), so an element that arrives in
// many reads is rescanned only O(log size) times.
func (p *PageReader) fill() error {
	if p.eof {
		if p.readErr != nil {
			return &CutError{Offset: p.Offset(), Err: p.readErr}
		}
		return &CutError{Offset: p.Offset(), Err: io.ErrUnexpectedEOF}
	}
	unread := len(p.buf) - p.pos
	if unread > MaxRecord {
		return ErrTooLarge
	}
	if p.pos > 0 {
		copy(p.buf, p.buf[p.pos:])
		p.buf = p.buf[:unread]
		p.base += int64(p.pos)
		p.pos = 0
	}
	maxCap := MaxRecord + p.chunk
	if (cap(p.buf)-len(p.buf) < p.chunk/2 || unread >= cap(p.buf)/2) && cap(p.buf) < maxCap {
		grown := make([]byte, len(p.buf), min(2*cap(p.buf)+p.chunk, maxCap))
		copy(grown, p.buf)
		p.buf = grown
	}
	// Fill the spare room (at least readSize, as unread <= MaxRecord) before scanning again, so each rescan
	// of an element follows a doubling of the bytes at hand.
	want := cap(p.buf)
	for empty := 0; len(p.buf) < want; {
		n, err := p.r.Read(p.buf[len(p.buf):cap(p.buf)])
		p.buf = p.buf[:len(p.buf)+n]
		if err != nil {
			p.eof = true
			if err != io.EOF {
				p.readErr = err
			}
			break
		}
		if n > 0 {
			continue
		}
		if empty++; empty == 100 {
			p.eof, p.readErr = true, io.ErrNoProgress
			break
		}
	}
	return nil
}

// separator moves past the byte c at offset i after a member or element: a comma leads to
// onComma, closer to onClose; anything else is not JSON and reports false.
func (p *PageReader) separator(c byte, i int, closer byte, onComma, onClose pageState) bool {
	switch c {
	case ',':
		p.state = onComma
	case closer:
		p.state = onClose
	default:
		return false
	}
	p.pos += i + 1
	return true
}

// step advances the state machine by one token. It reports an element when got is true; stShort means more
// bytes are needed to take the step (nothing was consumed).
func (p *PageReader) step() (el Element, got bool, st status, err error) {
	b := p.buf[p.pos:]
	p.sc.b, p.sc.eof, p.sc.cursorField = b, p.eof, ""
	i := skipSpace(b, 0)
	if i >= len(b) && p.state != psTrail {
		p.pos += i
		if p.eof {
			return el, false, stSyntax, nil
		}
		return el, false, stShort, nil
	}
	switch p.state {
	case psBegin:
		if b[i] != '{' {
			if b[i] == '[' || b[i] == '"' || b[i] == '-' || b[i]-'0' < 10 || b[i] == 't' || b[i] == 'f' || b[i] == 'n' {
				return el, false, stOK, ErrNotObject
			}
			return el, false, stSyntax, nil
		}
		p.pos += i + 1
		p.state = psKey
	case psKey:
		if b[i] == '}' && p.keys == 0 {
			return el, false, stOK, ErrNoData
		}
		if b[i] != '"' {
			return el, false, stSyntax, nil
		}
		end, plain, st := p.sc.str(i)
		if st != stOK {
			return el, false, st, nil
		}
		j := skipSpace(b, end)
		if j >= len(b) {
			return el, false, p.sc.short(), nil
		}
		if b[j] != ':' {
			return el, false, stSyntax, nil
		}
		key, ok := unquote(b[i:end], plain)
		if !ok {
			return el, false, stSyntax, nil
		}
		p.key = string(key)
		p.pos += j + 1
		p.keys++
		p.state = psValue
	case psValue:
		switch p.key {
		case "data":
			if b[i] != '[' {
				return el, false, stOK, ErrDataNotArray
			}
			p.sawData = true
			p.pos += i + 1
			p.state = psDataFirst
		case "next_token":
			end, _, st := p.sc.value(i, nil, 0)
			if st != stOK {
				return el, false, st, nil
			}
			switch b[i] {
			case 'n':
				p.token = ""
			case '"':
				if n := end - i - 2; n > MaxNextToken {
					return el, false, stOK, fmt.Errorf("%w: Oura sent %d bytes, the connector follows at most %d", ErrLongNextToken, n, MaxNextToken)
				}
				if json.Unmarshal(b[i:end], &p.token) != nil {
					return el, false, stOK, ErrBadNextToken
				}
			default:
				return el, false, stOK, ErrBadNextToken
			}
			p.pos += end
			p.state = psAfter
		default:
			end, _, st := p.sc.value(i, nil, 0)
			if st != stOK {
				return el, false, st, nil
			}
			p.pos += end
			p.state = psAfter
		}
	case psDataFirst:
		if b[i] == ']' {
			p.pos += i + 1
			p.state = psAfter
			return el, false, stOK, nil
		}
		p.pos += i
		p.state = psElem
	case psElem:
		p.sc.cursorField = p.cursorField
		res, end, st := p.sc.record(i, p.schema)
		if st == stDeep {
			// Refuse the element, not the page: skip it by its brackets and carry on.
			end, st = skipDeep(b, i, p.eof)
			if st != stOK {
				return el, false, st, nil
			}
			p.pos += end
			p.state = psElemAfter
			return Element{Raw: b[i:end], TooDeep: true}, true, stOK, nil
		}
		if st != stOK {
			return el, false, st, nil
		}
		raw := b[i:end]
		if res.BadUTF8 {
			raw = res.Fixed
		}
		p.pos += end
		p.state = psElemAfter
		return Element{Raw: raw, Result: res}, true, stOK, nil
	case psElemAfter:
		if !p.separator(b[i], i, ']', psElem, psAfter) {
			return el, false, stSyntax, nil
		}
	case psAfter:
		if !p.separator(b[i], i, '}', psKey, psTrail) {
			return el, false, stSyntax, nil
		}
	case psTrail:
		if i < len(b) {
			return el, false, stSyntax, nil
		}
		p.pos += i
		if !p.eof {
			return el, false, stShort, nil
		}
		if !p.sawData {
			return el, false, stOK, ErrNoData
		}
		p.state = psDone
	}
	return el, false, stOK, nil
}

// skipDeep skips the over-deep value at b[i] by counting brackets outside strings. It checks less than the
// scanner (the element is refused anyway) but still needs the brackets to balance.
func skipDeep(b []byte, i int, eof bool) (int, status) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			sc := scanner{b: b, eof: eof}
			end, _, st := sc.str(j)
			if st != stOK {
				return end, st
			}
			j = end - 1
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return j + 1, stOK
			}
			if depth < 0 {
				return j, stSyntax
			}
		}
	}
	if eof {
		return len(b), stSyntax
	}
	return len(b), stShort
}

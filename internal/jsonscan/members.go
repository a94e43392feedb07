package jsonscan

// Member is one member of a JSON object, found by byte offsets into the document, so that a
// caller can copy or replace its parts without decoding the rest.
type Member struct {
	// Key is the member's name, decoded.
	Key string
	// Lead is where the whitespace before the key begins: just after the '{' or ','.
	Lead int
	// KeyStart and KeyEnd bound the key's string token, quotes included.
	KeyStart, KeyEnd int
	// ValueStart and ValueEnd bound the value, without the whitespace around it.
	ValueStart, ValueEnd int
}

// Members lists the members of the JSON object that starts at doc[start] ('{'), in document
// order, and returns the offset just past its closing brace. A value is checked, not decoded;
// anything that is not one complete JSON object nested at most MaxDepth deep gives ErrSyntax
// or ErrTooDeep. Duplicate keys are listed as they stand.
func Members(doc []byte, start int) ([]Member, int, error) {
	if start >= len(doc) || doc[start] != '{' {
		return nil, 0, ErrSyntax
	}
	sc := scanner{b: doc, eof: true}
	var out []Member
	lead := start + 1
	i := skipSpace(doc, lead)
	if i < len(doc) && doc[i] == '}' {
		return nil, i + 1, nil
	}
	for {
		if i >= len(doc) || doc[i] != '"' {
			return nil, 0, ErrSyntax
		}
		keyEnd, plain, st := sc.str(i)
		if st != stOK {
			return nil, 0, ErrSyntax
		}
		key, ok := unquote(doc[i:keyEnd], plain)
		j := skipSpace(doc, keyEnd)
		if !ok || j >= len(doc) || doc[j] != ':' {
			return nil, 0, ErrSyntax
		}
		m := Member{Key: string(key), Lead: lead, KeyStart: i, KeyEnd: keyEnd, ValueStart: skipSpace(doc, j+1)}
		if m.ValueEnd, _, st = sc.value(m.ValueStart, nil, 1); st == stDeep {
			return nil, 0, ErrTooDeep
		} else if st != stOK {
			return nil, 0, ErrSyntax
		}
		out = append(out, m)
		i = skipSpace(doc, m.ValueEnd)
		if i < len(doc) && doc[i] == '}' {
			return out, i + 1, nil
		}
		if i >= len(doc) || doc[i] != ',' {
			return nil, 0, ErrSyntax
		}
		lead = i + 1
		i = skipSpace(doc, lead)
	}
}

package jsonscan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestLongNextTokenIsRefused: a next_token up to MaxNextToken bytes is read as is; one byte more ends the
// page with ErrLongNextToken, whose text gives the length Oura sent and none of the token itself.
func TestLongNextTokenIsRefused(t *testing.T) {
	ok := strings.Repeat("k", MaxNextToken)
	records, pr, err := readPage(strings.NewReader(`{"data":[1,2],"next_token":"`+ok+`"}`), nil)
	if err != nil || len(records) != 2 || pr.NextToken() != ok {
		t.Fatalf("a %d-byte token: %d records, err %v", MaxNextToken, len(records), err)
	}
	for _, n := range []int{MaxNextToken + 1, 512 << 10} {
		long := strings.Repeat("Q", n)
		for _, body := range []string{`{"data":[1],"next_token":"` + long + `"}`, `{"next_token":"` + long + `","data":[1]}`} {
			_, pr, err := readPage(strings.NewReader(body), nil)
			if !errors.Is(err, ErrLongNextToken) {
				t.Fatalf("a %d-byte token: err %v, want ErrLongNextToken", n, err)
			}
			if msg := err.Error(); !strings.Contains(msg, fmt.Sprintf("%d bytes", n)) || strings.Contains(msg, "QQQQ") || len(msg) > 200 {
				t.Errorf("error %q should give the length %d and not the token", msg, n)
			}
			if pr.NextToken() != "" {
				t.Errorf("the refused token was kept (%d bytes)", len(pr.NextToken()))
			}
		}
	}
}

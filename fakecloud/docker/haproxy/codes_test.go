package haproxy

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestExpectLine(t *testing.T) {
	tests := []struct{ codes, want string }{
		{"200", "http-check expect status 200"},
		{" 204 ", "http-check expect status 204"},
		{"200,200", "http-check expect status 200"},
		{"200,202", "http-check expect rstatus ^(200|202)$"},
		{"200, 202 ,301", "http-check expect rstatus ^(200|202|301)$"},
		{"200-204", "http-check expect rstatus ^(20[0-4])$"},
		{"200-299", "http-check expect rstatus ^(2[0-9][0-9])$"},
		{"200-200", "http-check expect status 200"},
		{"199-301", "http-check expect rstatus ^(199|2[0-9][0-9]|30[0-1])$"},
		{"100-599", "http-check expect rstatus ^([1-5][0-9][0-9])$"},
		{"200,301-302", "http-check expect rstatus ^(200|30[1-2])$"},
	}
	for _, tt := range tests {
		got, err := expectLine(tt.codes)
		if err != nil || got != tt.want {
			t.Errorf("expectLine(%q) = %q, %v; want %q", tt.codes, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "20", "2000", "abc", "204-200", "200-", "-200", "200,,202", "200-204-206", "2 0", strings.Repeat("200,", 300)} {
		if got, err := expectLine(bad); err == nil {
			t.Errorf("expectLine(%q) = %q, want an error", bad, got)
		}
	}
}

// TestDigitRange checks that the alternatives of random ranges match exactly the codes in
// the range, among all 1,000 three-digit strings.
func TestDigitRange(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pairs := [][2]int{{0, 999}, {0, 0}, {999, 999}, {100, 599}, {109, 110}, {190, 210}, {99, 100}, {0, 9}, {1, 998}}
	for range 300 {
		a, b := r.IntN(1000), r.IntN(1000)
		pairs = append(pairs, [2]int{min(a, b), max(a, b)})
	}
	for _, p := range pairs {
		lo, hi := fmt.Sprintf("%03d", p[0]), fmt.Sprintf("%03d", p[1])
		alts := digitRange(lo, hi)
		re := regexp.MustCompile("^(" + strings.Join(alts, "|") + ")$")
		if strings.Contains(re.String(), `\`) {
			t.Fatalf("%s-%s: backslash in %s", lo, hi, re)
		}
		for n := range 1000 {
			code := fmt.Sprintf("%03d", n)
			if got, want := re.MatchString(code), n >= p[0] && n <= p[1]; got != want {
				t.Fatalf("%s-%s: %s matches %s: %v, want %v", lo, hi, re, code, got, want)
			}
		}
	}
}

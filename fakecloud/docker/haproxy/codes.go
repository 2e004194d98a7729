package haproxy

import (
	"fmt"
	"slices"
	"strings"
)

// maxCodesLen bounds expected_codes, so the check line stays short.
const maxCodesLen = 1024

// expectLine turns Octavia's expected_codes ("200", "200,202", "200-204") into an http-check
// expect line: `status` for one code, otherwise `rstatus` with an anchored regular expression
// (a range as digit classes, not one alternative per code). Lists may mix codes and ranges.
func expectLine(codes string) (string, error) {
	if len(codes) > maxCodesLen {
		return "", fmt.Errorf("expected_codes is longer than %d characters", maxCodesLen)
	}
	var alts []string
	for item := range strings.SplitSeq(codes, ",") {
		item = strings.TrimSpace(item)
		lo, hi, isRange := strings.Cut(item, "-")
		if !isRange {
			hi = lo
		}
		lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
		if !isCode(lo) || !isCode(hi) {
			return "", fmt.Errorf("expected_codes %q: %q is not a 3-digit code or a range of them", codes, item)
		}
		if lo > hi {
			return "", fmt.Errorf("expected_codes %q: range %s-%s is empty", codes, lo, hi)
		}
		for _, a := range digitRange(lo, hi) {
			if !slices.Contains(alts, a) {
				alts = append(alts, a)
			}
		}
	}
	if len(alts) == 1 && isCode(alts[0]) {
		return "http-check expect status " + alts[0], nil
	}
	return "http-check expect rstatus ^(" + strings.Join(alts, "|") + ")$", nil
}

func isCode(s string) bool {
	return len(s) == 3 && strings.Trim(s, "0123456789") == ""
}

// digitRange returns regular-expression alternatives that together match exactly the digit
// strings from lo to hi, both of the same length, lo <= hi. Only digits and [x-y] classes are
// used: HAProxy's parser would eat the backslash of \d.
func digitRange(lo, hi string) []string {
	n := len(lo)
	if lo == hi {
		return []string{lo}
	}
	if n == 1 {
		return []string{class(lo[0], hi[0])}
	}
	if lo[0] == hi[0] {
		return prefixed(lo[:1], digitRange(lo[1:], hi[1:]))
	}
	zeros, nines := strings.Repeat("0", n-1), strings.Repeat("9", n-1)
	var out []string
	first, last := lo[0], hi[0]
	if lo[1:] != zeros {
		out = append(out, prefixed(lo[:1], digitRange(lo[1:], nines))...)
		first++
	}
	tail := hi[1:] != nines
	if tail {
		last--
	}
	if first <= last {
		out = append(out, class(first, last)+strings.Repeat("[0-9]", n-1))
	}
	if tail {
		out = append(out, prefixed(hi[:1], digitRange(zeros, hi[1:]))...)
	}
	return out
}

func class(a, b byte) string {
	if a == b {
		return string(a)
	}
	return "[" + string(a) + "-" + string(b) + "]"
}

func prefixed(p string, alts []string) []string {
	out := make([]string, len(alts))
	for i, a := range alts {
		out[i] = p + a
	}
	return out
}

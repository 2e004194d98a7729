package haproxy

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

// ParseStats reads the output of `show stat` on the stats socket (CSV whose first line is
// "# pxname,svname,...") and returns the Octavia operating status of every server, keyed by
// its name, which Render makes the member id. FRONTEND and BACKEND rows are skipped.
//
// HAProxy's server status maps as follows:
//   - UP, and "UP 1/3" (up, with failed checks but fewer than fall): ONLINE;
//   - NOLB and DRAIN (up, taking no new connections), with or without counts: ONLINE;
//   - DOWN, "DOWN 1/2" (down, with passed checks but fewer than rise), "DOWN (agent)": ERROR;
//   - "no check" (no enabled monitor): NO_MONITOR;
//   - MAINT, "MAINT (via ...)", "MAINT (resolution)", "DRAIN (maint)" (a disabled member or
//     pool): OFFLINE;
//   - anything else: ERROR, so that a surprise is seen rather than hidden.
//
// A name met twice (it cannot be with Render's files) keeps its worst status. ParseStats
// fails on input without the header, the pxname, svname and status columns, or with
// malformed CSV; it never panics.
func ParseStats(data []byte) (map[string]string, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("parsing show stat: no header line")
		}
		return nil, fmt.Errorf("parsing show stat header: %w", err)
	}
	if len(header) == 0 || !strings.HasPrefix(header[0], "# ") {
		return nil, fmt.Errorf("parsing show stat: first line %.40q does not start with \"# \"", strings.Join(header, ","))
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimPrefix(h, "# ")
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	px, okPx := col["pxname"]
	sv, okSv := col["svname"]
	st, okSt := col["status"]
	if !okPx || !okSv || !okSt {
		return nil, errors.New("parsing show stat: the header lacks pxname, svname or status")
	}
	need := max(px, sv, st)
	out := map[string]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parsing show stat: %w", err)
		}
		if len(rec) > 0 && strings.HasPrefix(rec[0], "#") {
			continue // a repeated header
		}
		if len(rec) <= need {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("parsing show stat: line %d has %d fields, want more than %d", line, len(rec), need)
		}
		name := rec[sv]
		if name == "FRONTEND" || name == "BACKEND" || name == "" {
			continue
		}
		status := memberStatus(rec[st])
		if prev, ok := out[name]; !ok || severity(status) > severity(prev) {
			out[name] = status
		}
	}
}

// memberStatus maps one HAProxy server status to an Octavia operating status.
func memberStatus(s string) string {
	word, rest, _ := strings.Cut(strings.TrimSpace(s), " ")
	switch {
	case word == "MAINT", word == "DRAIN" && rest == "(maint)":
		return loadbalancer.OpOffline
	case word == "UP", word == "NOLB", word == "DRAIN":
		return loadbalancer.OpOnline
	case word == "DOWN":
		return loadbalancer.OpError
	case word == "no" && rest == "check":
		return loadbalancer.OpNoMonitor
	}
	return loadbalancer.OpError
}

// severity orders statuses for a name met twice.
func severity(s string) int {
	switch s {
	case loadbalancer.OpError:
		return 3
	case loadbalancer.OpOffline:
		return 2
	case loadbalancer.OpOnline:
		return 1
	}
	return 0
}

package compute

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

// The microversion range fakecloud's Nova advertises.
var (
	MinVersion = Version{2, 1}
	MaxVersion = Version{2, 96}
)

// Version is a Nova API microversion.
type Version struct{ Major, Minor int }

// String formats v as "2.60".
func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast reports whether v >= 2.minor.
func (v Version) AtLeast(minor int) bool { return v.Major > 2 || (v.Major == 2 && v.Minor >= minor) }

func parseVersion(s string) (Version, bool) {
	maj, min, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok {
		return Version{}, false
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 {
		return Version{}, false
	}
	return Version{a, b}, true
}

func (v Version) less(o Version) bool {
	return v.Major < o.Major || (v.Major == o.Major && v.Minor < o.Minor)
}

// requestedVersion reads the microversion of a request from OpenStack-API-Version
// ("compute 2.60") or X-OpenStack-Nova-API-Version ("2.60"); none means 2.1, "latest" the
// maximum. A malformed value is a 400, one outside the range a 406, as Nova answers.
func requestedVersion(r *http.Request) (Version, error) {
	raw := ""
	for _, h := range r.Header.Values("OpenStack-API-Version") {
		for _, part := range strings.Split(h, ",") {
			f := strings.Fields(part)
			if len(f) == 2 && strings.EqualFold(f[0], "compute") {
				raw = f[1]
			}
		}
	}
	if raw == "" {
		raw = strings.TrimSpace(r.Header.Get("X-OpenStack-Nova-API-Version"))
	}
	if raw == "" {
		return MinVersion, nil
	}
	if strings.EqualFold(raw, "latest") {
		return MaxVersion, nil
	}
	v, ok := parseVersion(raw)
	if !ok {
		return MinVersion, httpapi.BadRequest("API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", raw)
	}
	if v.less(MinVersion) || MaxVersion.less(v) {
		return MinVersion, httpapi.Errorf(http.StatusNotAcceptable, "VersionNotAcceptable",
			"Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, MinVersion, MaxVersion)
	}
	return v, nil
}

func setVersionHeaders(w http.ResponseWriter, v Version) {
	h := w.Header()
	h.Set("OpenStack-API-Version", "compute "+v.String())
	h.Set("X-OpenStack-Nova-API-Version", v.String())
	h.Set("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version")
}

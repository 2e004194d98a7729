package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type body struct {
	Server struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	} `json:"server"`
}

func req(b string) *http.Request {
	return httptest.NewRequest(http.MethodPost, "/x?limit=2&marker=b&tags=a,b&name=n1&name=n2", strings.NewReader(b))
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]struct {
		body   string
		status int
		says   string
	}{
		"malformed":  {`{"server": {`, 400, "Malformed"},
		"wrong type": {`{"server": {"count": "three"}}`, 400, `"server.count"`},
		"empty":      {``, 400, "empty"},
		"trailing":   {`{} {}`, 400, "after the JSON"},
		"too large":  {`{"server": {"name": "` + strings.Repeat("x", MaxBody) + `"}}`, 413, "too large"},
		"not object": {`[1,2]`, 400, "Invalid input"},
	}
	for name, c := range cases {
		var b body
		err := Decode(req(c.body), &b)
		var e *Error
		if !errors.As(err, &e) || e.Status != c.status || !strings.Contains(e.Message, c.says) {
			t.Errorf("%s: got %v, want %d mentioning %q", name, err, c.status, c.says)
		}
	}
	var b body
	if err := Decode(req(`{"server": {"name": "a", "extra": 1}}`), &b); err != nil || b.Server.Name != "a" {
		t.Errorf("lenient decode: %v %+v", err, b)
	}
	if err := DecodeStrict(req(`{"server": {"name": "a", "extra": 1}}`), &b); err == nil {
		t.Error("strict decode accepted an unknown field")
	}
}

func TestErrorStyles(t *testing.T) {
	cases := map[Style]string{
		StyleNova:     `{"itemNotFound":{"code":404,"message":"server x could not be found."}}`,
		StyleNeutron:  `{"NeutronError":{"detail":"","message":"server x could not be found.","type":"ServerNotFound"}}`,
		StyleOctavia:  `{"debuginfo":null,"faultcode":"Client","faultstring":"server x could not be found."}`,
		StyleKeystone: `{"error":{"code":404,"message":"server x could not be found.","title":"Not Found"}}`,
		StyleGlance:   `{"code":404,"message":"server x could not be found.","title":"Not Found"}`,
	}
	for style, want := range cases {
		rec := httptest.NewRecorder()
		WriteError(rec, style, NotFound("server", "x"))
		if rec.Code != 404 || strings.TrimSpace(rec.Body.String()) != want {
			t.Errorf("style %d: %d %s, want %s", style, rec.Code, rec.Body.String(), want)
		}
	}
	rec := httptest.NewRecorder()
	WriteError(rec, StyleIronic, BadRequest("bad"))
	var outer struct {
		ErrorMessage string `json:"error_message"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &outer)
	var inner map[string]any
	if err := json.Unmarshal([]byte(outer.ErrorMessage), &inner); err != nil || inner["faultstring"] != "bad" {
		t.Errorf("ironic body %s: %v", rec.Body.String(), err)
	}
	rec = httptest.NewRecorder()
	WriteError(rec, StyleNova, errors.New("boom"))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "computeFault") {
		t.Errorf("plain error: %d %s", rec.Code, rec.Body.String())
	}
}

func TestPaginateAndFilter(t *testing.T) {
	items := []string{"d", "a", "c", "b", "e"}
	p, err := Paginate(req(""), items, func(s string) string { return s })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Items, "") != "cd" || p.Next != "d" {
		t.Errorf("page after b, limit 2 = %v next %q", p.Items, p.Next)
	}
	if _, err := Paginate(httptest.NewRequest("GET", "/x?marker=zz", nil), items, func(s string) string { return s }); err == nil {
		t.Error("unknown marker accepted")
	}
	if _, err := Paginate(httptest.NewRequest("GET", "/x?limit=-1", nil), items, func(s string) string { return s }); err == nil {
		t.Error("negative limit accepted")
	}
	f := NewFilter(req(""))
	if !f.Str("name", "n2") || f.Str("name", "n3") || !f.Str("absent", "anything") {
		t.Error("Str filter")
	}
	if !f.Tags([]string{"a", "b", "c"}) || f.Tags([]string{"a"}) {
		t.Error("Tags filter")
	}
	if !IsUUID("0d3f9d2e-5b8a-4c4e-9a57-1b2c3d4e5f60") || IsUUID("nope") || IsUUID("0d3f9d2e-5b8a-4c4e-9a57-1b2c3d4e5f6") {
		t.Error("IsUUID")
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"server": {"name": "a", "count": 1}}`, `{`, `null`, `[]`, `{"server": null}`, "\x00", `{"server": {"count": 1e999}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b body
		err := Decode(req(s), &b)
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
			t.Fatalf("Decode(%q) = %v: want a 4xx *Error", s, err)
		}
	})
}

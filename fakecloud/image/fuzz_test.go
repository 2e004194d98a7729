package image

import (
	"testing"
)

// FuzzImageRequests sends arbitrary bodies to image create and patch: every answer must be a
// success or a 4xx, never a 500.
func FuzzImageRequests(f *testing.F) {
	f.Add([]byte(`{"name":"x","tags":["a"],"min_ram":1,"visibility":"private","k":"v"}`), []byte(`[{"op":"add","path":"/k","value":"v"}]`))
	f.Add([]byte(`{"id":"00000000-0000-0000-0000-000000000000","disk_format":null}`), []byte(`[{"replace":"/name","value":"n"}]`))
	f.Add([]byte(`{"min_disk":1e300,"os_hidden":"yes"}`), []byte(`[{"op":"remove","path":"/~1x"}]`))
	e := newTestEnv(f, Options{})
	code, im := e.do(f, "demo", "POST", "/image/v2/images", "application/json", map[string]any{"name": "target"})
	if code != 201 {
		f.Fatal(code)
	}
	id := im["id"].(string)
	f.Fuzz(func(t *testing.T, create, patch []byte) {
		if code, body := e.do(t, "demo", "POST", "/image/v2/images", "application/json", create); code >= 500 {
			t.Fatalf("create %q: %d %v", create, code, body)
		}
		if code, body := e.do(t, "demo", "PATCH", "/image/v2/images/"+id, patchV21, patch); code >= 500 {
			t.Fatalf("patch %q: %d %v", patch, code, body)
		}
	})
}

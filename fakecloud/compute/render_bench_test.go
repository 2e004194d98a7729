package compute

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

func BenchmarkServerBody(b *testing.B) {
	s := &Service{}
	srv := &Server{ID: "58e31e3a-84fc-4dde-b0cc-275b2dae2b68", Name: "web", Project: "demo", Status: StatusActive, VMState: "active",
		Flavor: FlavorSnapshot{ID: "f", Name: "g1.small", VCPUs: 1, RAM: 2048}, Image: services.ImageInfo{ID: imageID},
		Metadata: map[string]string{"a": "b"}, Ports: []services.PortInfo{{ID: "p", NetworkName: "net", FixedIPs: []services.FixedIP{{IPAddress: "10.0.0.2"}}}}}
	c := &call{r: httptest.NewRequest("GET", "/", nil), p: &httpapi.Principal{ProjectID: "demo"}, mv: Version{2, 60}, base: "http://x/compute"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = json.NewEncoder(io.Discard).Encode(s.serverBody(c, srv))
	}
}

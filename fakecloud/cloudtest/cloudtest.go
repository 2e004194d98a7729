// Package cloudtest starts a whole fakecloud (memory backend, quick timers) on a test HTTP
// server and hands out gophercloud clients for its seeded users, so every service can be tested
// through the real client library.
package cloudtest

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloud"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

// The clouds.yaml entries of the seeded users.
const (
	Admin      = "fakecloud-admin"
	Demo       = "fakecloud-demo"
	DemoReader = "fakecloud-demo-reader"
)

// FastTiming makes asynchronous work finish within tens of milliseconds.
var FastTiming = services.Timing{
	ServerBuild:       20 * time.Millisecond,
	ServerDelete:      10 * time.Millisecond,
	LoadBalancerBuild: 20 * time.Millisecond,
	NodeDeploy:        20 * time.Millisecond,
	NodeClean:         20 * time.Millisecond,
}

// Harness is a running fakecloud for one test.
type Harness struct {
	Cloud   *cloud.Cloud
	URL     string // base URL, e.g. http://127.0.0.1:34567
	AuthURL string // Keystone v3
	Config  cloud.Config
	server  *httptest.Server
	cancel  context.CancelFunc
}

// Start runs a fakecloud with its state in a temporary directory (or cfg's DataDir, to test
// restarts) until the test ends. Options change the configuration before start.
func Start(t testing.TB, opts ...func(*cloud.Config)) *Harness {
	t.Helper()
	cfg := cloud.Config{DataDir: t.TempDir(), Timing: FastTiming, Seed: cloud.Seed{AdminPassword: "admin-secret", DemoPassword: "demo-secret"}}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := cloud.New(cfg)
	if err != nil {
		t.Fatalf("starting fakecloud: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.Start(ctx)
	srv := httptest.NewServer(c.Handler())
	h := &Harness{Cloud: c, URL: srv.URL, AuthURL: srv.URL + "/identity/v3", Config: cfg, server: srv, cancel: cancel}
	t.Cleanup(h.Stop)
	return h
}

// Stop shuts the cloud down (Start registers it as a cleanup; calling it twice is fine).
func (h *Harness) Stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.server.Close()
	_ = h.Cloud.Close()
	h.cancel = nil
}

// CloudsYAML returns the clouds.yaml for this harness.
func (h *Harness) CloudsYAML() string { return h.Cloud.CloudsYAML(h.AuthURL) }

// Provider authenticates as the named clouds.yaml entry (Admin, Demo, DemoReader).
func (h *Harness) Provider(t testing.TB, cloudName string) *gophercloud.ProviderClient {
	t.Helper()
	ao, _, _, err := clouds.Parse(clouds.WithCloudName(cloudName), clouds.WithCloudsYAML(strings.NewReader(h.CloudsYAML())), clouds.WithLocations())
	if err != nil {
		t.Fatalf("parsing clouds.yaml for %s: %v", cloudName, err)
	}
	ao.AllowReauth = true
	p, err := openstack.AuthenticatedClient(context.Background(), ao)
	if err != nil {
		t.Fatalf("authenticating as %s: %v", cloudName, err)
	}
	return p
}

// Client returns a service client of the given catalog type for cloudName: "compute",
// "network", "load-balancer", "image", "baremetal" or "identity".
func (h *Harness) Client(t testing.TB, cloudName, serviceType string) *gophercloud.ServiceClient {
	t.Helper()
	p := h.Provider(t, cloudName)
	eo := gophercloud.EndpointOpts{Region: "RegionOne"}
	var (
		sc  *gophercloud.ServiceClient
		err error
	)
	switch serviceType {
	case "compute":
		sc, err = openstack.NewComputeV2(p, eo)
	case "network":
		sc, err = openstack.NewNetworkV2(p, eo)
	case "load-balancer":
		sc, err = openstack.NewLoadBalancerV2(p, eo)
	case "image":
		sc, err = openstack.NewImageV2(p, eo)
	case "baremetal":
		sc, err = openstack.NewBareMetalV1(p, eo)
	case "identity":
		sc, err = openstack.NewIdentityV3(p, eo)
	default:
		t.Fatalf("unknown service type %q", serviceType)
	}
	if err != nil {
		t.Fatalf("%s client for %s: %v", serviceType, cloudName, err)
	}
	return sc
}

// Eventually polls cond every 10 ms until it returns true or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

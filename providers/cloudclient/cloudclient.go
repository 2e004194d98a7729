// Package cloudclient turns a clouds.yaml Secret into authenticated gophercloud service clients
// for the providers. It is the only way the providers reach the cloud.
package cloudclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CloudsYAMLKey is the Secret key holding clouds.yaml.
const CloudsYAMLKey = "clouds.yaml"

// Identity names a clouds.yaml Secret and the cloud to use from it.
type Identity struct {
	Namespace string
	Secret    string
	CloudName string
}

// Clients are the service clients of one project.
type Clients struct {
	Compute      *gophercloud.ServiceClient
	Network      *gophercloud.ServiceClient
	LoadBalancer *gophercloud.ServiceClient
	Image        *gophercloud.ServiceClient
}

// Source hands out the service clients for an identity; Factory is the real one, tests may
// bring their own.
type Source interface {
	Clients(ctx context.Context, id Identity) (*Clients, error)
}

// Factory makes Clients from Identities. It keeps one authenticated provider per distinct
// clouds.yaml content and cloud name, so a reconcile does not log in again; gophercloud
// re-authenticates by itself when the token expires.
type Factory struct {
	// Reader reads the Secrets.
	Reader client.Reader

	mu    sync.Mutex
	cache map[string]*Clients
}

// NewFactory returns a Factory reading Secrets through r.
func NewFactory(r client.Reader) *Factory { return &Factory{Reader: r} }

// Clients returns the service clients for id.
func (f *Factory) Clients(ctx context.Context, id Identity) (*Clients, error) {
	var s corev1.Secret
	if err := f.Reader.Get(ctx, types.NamespacedName{Namespace: id.Namespace, Name: id.Secret}, &s); err != nil {
		return nil, fmt.Errorf("reading the identity secret %s/%s: %w", id.Namespace, id.Secret, err)
	}
	yaml := s.Data[CloudsYAMLKey]
	if len(yaml) == 0 {
		return nil, fmt.Errorf("identity secret %s/%s has no %q key: put a clouds.yaml there", id.Namespace, id.Secret, CloudsYAMLKey)
	}
	sum := sha256.Sum256(append(append([]byte{}, yaml...), []byte("\x00"+id.CloudName)...))
	key := hex.EncodeToString(sum[:])
	f.mu.Lock()
	if c, ok := f.cache[key]; ok {
		f.mu.Unlock()
		return c, nil
	}
	f.mu.Unlock()

	c, err := New(ctx, yaml, id.CloudName)
	if err != nil {
		return nil, fmt.Errorf("identity secret %s/%s: %w", id.Namespace, id.Secret, err)
	}
	f.mu.Lock()
	if f.cache == nil {
		f.cache = map[string]*Clients{}
	}
	f.cache[key] = c
	f.mu.Unlock()
	return c, nil
}

// New authenticates with cloud cloudName of cloudsYAML and returns its service clients.
func New(ctx context.Context, cloudsYAML []byte, cloudName string) (*Clients, error) {
	ao, eo, tlsCfg, err := clouds.Parse(clouds.WithCloudsYAML(bytes.NewReader(cloudsYAML)), clouds.WithCloudName(cloudName), clouds.WithLocations())
	if err != nil {
		return nil, fmt.Errorf("parsing clouds.yaml (cloud %q): %w", cloudName, err)
	}
	ao.AllowReauth = true
	pc, err := openstack.NewClient(ao.IdentityEndpoint)
	if err != nil {
		return nil, fmt.Errorf("cloud %q: %w", cloudName, err)
	}
	if tlsCfg != nil {
		pc.HTTPClient.Transport = &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: tlsCfg}
	}
	if err := openstack.Authenticate(ctx, pc, ao); err != nil {
		return nil, fmt.Errorf("authenticating to cloud %q at %s: %w", cloudName, ao.IdentityEndpoint, err)
	}
	c := &Clients{}
	if c.Compute, err = openstack.NewComputeV2(pc, eo); err != nil {
		return nil, fmt.Errorf("cloud %q: compute endpoint: %w", cloudName, err)
	}
	// Server tags need microversion 2.52; 2.67 is what gophercloud's server create understands fully.
	c.Compute.Microversion = "2.67"
	if c.Network, err = openstack.NewNetworkV2(pc, eo); err != nil {
		return nil, fmt.Errorf("cloud %q: network endpoint: %w", cloudName, err)
	}
	if c.LoadBalancer, err = openstack.NewLoadBalancerV2(pc, eo); err != nil {
		return nil, fmt.Errorf("cloud %q: load-balancer endpoint: %w", cloudName, err)
	}
	if c.Image, err = openstack.NewImageV2(pc, eo); err != nil {
		return nil, fmt.Errorf("cloud %q: image endpoint: %w", cloudName, err)
	}
	return c, nil
}

package runner

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/kaas-sandbox/sandbox/fakecloud/adminclient"
)

// AdminCloud is the fakecloud admin user's name in the sandbox's clouds.yaml.
const AdminCloud = "fakecloud-admin"

// SandboxCloud is fakecloud through its admin API and, for what the admin API's state does
// not say (subnets' CIDRs), through Neutron as the admin user.
type SandboxCloud struct {
	*adminclient.Client
	network *gophercloud.ServiceClient
}

// NewSandboxCloud authenticates as cloudName (AdminCloud in the sandbox) from the clouds.yaml
// at path.
func NewSandboxCloud(ctx context.Context, path, cloudName string) (*SandboxCloud, error) {
	admin, err := adminclient.FromCloudsYAML(ctx, path, cloudName)
	if err != nil {
		return nil, fmt.Errorf("fakecloud's admin API: %w", err)
	}
	ao, eo, _, err := clouds.Parse(clouds.WithCloudName(cloudName), clouds.WithLocations(path))
	if err != nil {
		return nil, fmt.Errorf("reading cloud %q from %s: %w", cloudName, path, err)
	}
	ao.AllowReauth = true
	p, err := openstack.AuthenticatedClient(ctx, ao)
	if err != nil {
		return nil, fmt.Errorf("authenticating to %s as %s: %w", ao.IdentityEndpoint, cloudName, err)
	}
	nc, err := openstack.NewNetworkV2(p, eo)
	if err != nil {
		return nil, fmt.Errorf("fakecloud's network endpoint: %w", err)
	}
	return &SandboxCloud{Client: admin, network: nc}, nil
}

// SubnetCIDRs lists every subnet's CIDR, of every project (the admin sees them all).
func (c *SandboxCloud) SubnetCIDRs(ctx context.Context) ([]string, error) {
	pages, err := subnets.List(c.network, subnets.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing subnets: %w", err)
	}
	all, err := subnets.ExtractSubnets(pages)
	if err != nil {
		return nil, fmt.Errorf("reading subnets: %w", err)
	}
	out := make([]string, 0, len(all))
	for _, s := range all {
		out = append(out, s.CIDR)
	}
	return out, nil
}

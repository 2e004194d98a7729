// Package compute makes and removes a machine's Nova server and its Neutron port, and resolves
// the names a GcoreMachine uses (flavor, image, availability zones) to the cloud's IDs. A server
// on a bare-metal flavor lands on an Ironic node: Nova and Ironic do the rest.
package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

// ErrInvalidSpec marks errors a retry cannot heal: the spec names something the cloud lacks.
var ErrInvalidSpec = errors.New("invalid spec")

// Service acts on one project's Nova, Neutron and Glance.
type Service struct {
	Compute *gophercloud.ServiceClient
	Network *gophercloud.ServiceClient
	Image   *gophercloud.ServiceClient
}

// Flavor is a resolved Nova flavor.
type Flavor struct {
	ID        string
	Name      string
	BareMetal bool
}

// FindFlavor resolves a flavor name. A flavor asking for a custom resource class
// (resources:CUSTOM_*=1) is a bare-metal one, as with Nova's Ironic driver.
func (s Service) FindFlavor(ctx context.Context, name string) (Flavor, error) {
	pages, err := flavors.ListDetail(s.Compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
	if err != nil {
		return Flavor{}, fmt.Errorf("listing flavors: %w", err)
	}
	all, err := flavors.ExtractFlavors(pages)
	if err != nil {
		return Flavor{}, fmt.Errorf("reading flavors: %w", err)
	}
	var names []string
	for _, f := range all {
		names = append(names, f.Name)
		if f.Name != name {
			continue
		}
		specs, err := flavors.ListExtraSpecs(ctx, s.Compute, f.ID).Extract()
		if err != nil {
			return Flavor{}, fmt.Errorf("reading the extra specs of flavor %s: %w", name, err)
		}
		bm := false
		for k, v := range specs {
			if strings.HasPrefix(k, "resources:CUSTOM_") && v == "1" {
				bm = true
			}
		}
		return Flavor{ID: f.ID, Name: f.Name, BareMetal: bm}, nil
	}
	slices.Sort(names)
	return Flavor{}, fmt.Errorf("%w: flavor %q does not exist; the cloud has: %s", ErrInvalidSpec, name, strings.Join(names, ", "))
}

// FindImage resolves an image by name or, with name empty, by its kube_version property.
func (s Service) FindImage(ctx context.Context, name, kubeVersion string) (string, error) {
	opts := images.ListOpts{Status: images.ImageStatusActive}
	if name != "" {
		opts.Name = name
	}
	pages, err := images.List(s.Image, opts).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("listing images: %w", err)
	}
	all, err := images.ExtractImages(pages)
	if err != nil {
		return "", fmt.Errorf("reading images: %w", err)
	}
	var versions []string
	for _, img := range all {
		if name != "" && img.Name == name {
			return img.ID, nil
		}
		if v, _ := img.Properties["kube_version"].(string); v != "" {
			versions = append(versions, v)
			if name == "" && v == kubeVersion {
				return img.ID, nil
			}
		}
	}
	if name != "" {
		return "", fmt.Errorf("%w: no active image named %q", ErrInvalidSpec, name)
	}
	slices.Sort(versions)
	return "", fmt.Errorf("%w: no active image has kube_version=%s; images exist for: %s", ErrInvalidSpec, kubeVersion, strings.Join(slices.Compact(versions), ", "))
}

// AvailabilityZones lists the zones servers can be placed in.
func (s Service) AvailabilityZones(ctx context.Context) ([]string, error) {
	pages, err := availabilityzones.List(s.Compute).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing availability zones: %w", err)
	}
	zones, err := availabilityzones.ExtractAvailabilityZones(pages)
	if err != nil {
		return nil, fmt.Errorf("reading availability zones: %w", err)
	}
	var out []string
	for _, z := range zones {
		if z.ZoneState.Available {
			out = append(out, z.ZoneName)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ServerSpec is what a machine's server is made of.
type ServerSpec struct {
	Name             string
	Tag              string // the machine's tag, on the server and its port
	ClusterTag       string // the cluster's tag, on the port (so the cluster's deletion finds leftovers)
	FlavorID         string
	ImageID          string
	NetworkID        string
	SubnetID         string
	SecurityGroupID  string
	UserData         []byte
	AvailabilityZone string
	ServerGroupID    string
	KeyName          string
}

// FindServer returns the server carrying tag, or nil.
func (s Service) FindServer(ctx context.Context, tag string) (*servers.Server, error) {
	pages, err := servers.List(s.Compute, servers.ListOpts{Tags: tag}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("looking for the server tagged %s: %w", tag, err)
	}
	found, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, fmt.Errorf("reading servers: %w", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	return &found[0], nil
}

// GetServer returns the server with this ID, or nil when it is gone.
func (s Service) GetServer(ctx context.Context, id string) (*servers.Server, error) {
	srv, err := servers.Get(ctx, s.Compute, id).Extract()
	if isStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading server %s: %w", id, err)
	}
	return srv, nil
}

// EnsurePort makes (or finds) the machine's port on the cluster subnet.
func (s Service) EnsurePort(ctx context.Context, spec ServerSpec) (string, error) {
	pages, err := ports.List(s.Network, ports.ListOpts{Tags: spec.Tag}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("looking for the port tagged %s: %w", spec.Tag, err)
	}
	found, err := ports.ExtractPorts(pages)
	if err != nil {
		return "", fmt.Errorf("reading ports: %w", err)
	}
	if len(found) > 0 {
		return found[0].ID, nil
	}
	sgs := []string{}
	if spec.SecurityGroupID != "" {
		sgs = []string{spec.SecurityGroupID}
	}
	p, err := ports.Create(ctx, s.Network, ports.CreateOpts{
		Name: spec.Name, NetworkID: spec.NetworkID, FixedIPs: []ports.IP{{SubnetID: spec.SubnetID}},
		SecurityGroups: &sgs, Description: "Cluster API machine " + spec.Name,
	}).Extract()
	if err != nil {
		return "", fmt.Errorf("creating port %s on subnet %s: %w", spec.Name, spec.SubnetID, err)
	}
	tags := []string{spec.Tag}
	if spec.ClusterTag != "" {
		tags = append(tags, spec.ClusterTag)
	}
	if _, err := attributestags.ReplaceAll(ctx, s.Network, "ports", p.ID, attributestags.ReplaceAllOpts{Tags: tags}).Extract(); err != nil {
		// An untagged port would be an orphan nobody finds: remove it and let the retry start over.
		_ = ports.Delete(ctx, s.Network, p.ID).ExtractErr()
		return "", fmt.Errorf("tagging port %s: %w", p.ID, err)
	}
	return p.ID, nil
}

// CreateServer boots the server on portID.
func (s Service) CreateServer(ctx context.Context, spec ServerSpec, portID string) (*servers.Server, error) {
	opts := servers.CreateOpts{
		Name: spec.Name, FlavorRef: spec.FlavorID, ImageRef: spec.ImageID, UserData: spec.UserData,
		AvailabilityZone: spec.AvailabilityZone, Networks: []servers.Network{{Port: portID}},
		Tags: []string{spec.Tag}, Metadata: map[string]string{"cluster-api-machine": spec.Name},
	}
	var create servers.CreateOptsBuilder = opts
	if spec.KeyName != "" {
		create = keyPairOpts{opts, spec.KeyName}
	}
	var hints servers.SchedulerHintOptsBuilder
	if spec.ServerGroupID != "" {
		hints = servers.SchedulerHintOpts{Group: spec.ServerGroupID}
	}
	srv, err := servers.Create(ctx, s.Compute, create, hints).Extract()
	if err != nil {
		if isStatus(err, http.StatusBadRequest) {
			return nil, fmt.Errorf("%w: creating server %s: %v", ErrInvalidSpec, spec.Name, err)
		}
		return nil, fmt.Errorf("creating server %s: %w", spec.Name, err)
	}
	return srv, nil
}

// keyPairOpts adds key_name to a server create request.
type keyPairOpts struct {
	servers.CreateOpts
	keyName string
}

func (o keyPairOpts) ToServerCreateMap() (map[string]any, error) {
	m, err := o.CreateOpts.ToServerCreateMap()
	if err != nil {
		return nil, err
	}
	m["server"].(map[string]any)["key_name"] = o.keyName
	return m, nil
}

// StartServer powers a SHUTOFF server on.
func (s Service) StartServer(ctx context.Context, id string) error {
	if err := servers.Start(ctx, s.Compute, id).ExtractErr(); err != nil && !isStatus(err, http.StatusConflict) {
		return fmt.Errorf("starting server %s: %w", id, err)
	}
	return nil
}

// DeleteServer deletes the server; a server already gone is fine.
func (s Service) DeleteServer(ctx context.Context, id string) error {
	if err := servers.Delete(ctx, s.Compute, id).ExtractErr(); err != nil && !isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("deleting server %s: %w", id, err)
	}
	return nil
}

// DeletePorts deletes the ports carrying tag that no server holds any more. It returns false
// while a port is still bound (its server is being deleted).
func (s Service) DeletePorts(ctx context.Context, tag string) (bool, error) {
	pages, err := ports.List(s.Network, ports.ListOpts{Tags: tag}).AllPages(ctx)
	if err != nil {
		return false, fmt.Errorf("listing the ports tagged %s: %w", tag, err)
	}
	found, err := ports.ExtractPorts(pages)
	if err != nil {
		return false, fmt.Errorf("reading ports: %w", err)
	}
	done := true
	for _, p := range found {
		if p.DeviceID != "" {
			done = false
			continue
		}
		if err := ports.Delete(ctx, s.Network, p.ID).ExtractErr(); err != nil && !isStatus(err, http.StatusNotFound) {
			return false, fmt.Errorf("deleting port %s: %w", p.ID, err)
		}
	}
	return done, nil
}

// PortAddresses returns the fixed IPv4 addresses of a port.
func (s Service) PortAddresses(ctx context.Context, portID string) ([]string, error) {
	p, err := ports.Get(ctx, s.Network, portID).Extract()
	if err != nil {
		return nil, fmt.Errorf("reading port %s: %w", portID, err)
	}
	var out []string
	for _, ip := range p.FixedIPs {
		out = append(out, ip.IPAddress)
	}
	return out, nil
}

func isStatus(err error, code int) bool {
	var e gophercloud.ErrUnexpectedResponseCode
	return errors.As(err, &e) && e.Actual == code
}

// Package adminclient talks to fakecloud's own admin API (/admin: faults, events, state) with
// an admin token, for the fakecloud CLI, chaos scenarios and e2e tests.
package adminclient

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"

	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

// Client is an authenticated admin API client.
type Client struct {
	provider *gophercloud.ProviderClient
	base     string // e.g. http://127.0.0.1:8780
}

// FromCloudsYAML authenticates as cloudName from the clouds.yaml at path ("" searches the
// standard locations, as the openstack CLI does).
func FromCloudsYAML(ctx context.Context, path, cloudName string) (*Client, error) {
	opts := []clouds.ParseOption{clouds.WithCloudName(cloudName)}
	if path != "" {
		opts = append(opts, clouds.WithLocations(path))
	}
	ao, _, _, err := clouds.Parse(opts...)
	if err != nil {
		return nil, fmt.Errorf("reading cloud %q from clouds.yaml %s: %w (start fakecloud with --clouds-yaml, or pass --clouds-yaml)", cloudName, path, err)
	}
	ao.AllowReauth = true
	p, err := openstack.AuthenticatedClient(ctx, ao)
	if err != nil {
		return nil, fmt.Errorf("authenticating to %s as %s: %w (is fakecloud running?)", ao.IdentityEndpoint, cloudName, err)
	}
	base := strings.TrimSuffix(strings.TrimSuffix(ao.IdentityEndpoint, "/"), "/v3")
	base = strings.TrimSuffix(base, "/identity")
	return &Client{provider: p, base: base}, nil
}

func (c *Client) do(ctx context.Context, method, path string, body, out any, ok ...int) error {
	_, err := c.provider.Request(ctx, method, c.base+path, &gophercloud.RequestOpts{JSONBody: body, JSONResponse: out, OkCodes: ok})
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// FaultSpec is a fault to switch on; durations are Go durations ("30s").
type FaultSpec struct {
	Type      string  `json:"type"`
	Service   string  `json:"service,omitempty"`
	Operation string  `json:"operation,omitempty"`
	Project   string  `json:"project,omitempty"`
	Rate      float64 `json:"rate,omitempty"`
	Status    int     `json:"status,omitempty"`
	Message   string  `json:"message,omitempty"`
	Latency   string  `json:"latency,omitempty"`
	Mode      string  `json:"mode,omitempty"`
	StuckFor  string  `json:"stuck_for,omitempty"`
	Resource  string  `json:"resource,omitempty"`
	Limit     int     `json:"limit,omitempty"`
	For       string  `json:"for,omitempty"`
	// Seed makes the draws of a rule with a rate below 1 repeat from run to run.
	Seed *int64 `json:"seed,omitempty"`
}

// AddFault switches a fault on and returns it with its id.
func (c *Client) AddFault(ctx context.Context, f FaultSpec) (faults.Rule, error) {
	var out struct {
		Fault faults.Rule `json:"fault"`
	}
	err := c.do(ctx, http.MethodPost, "/admin/faults", map[string]any{"fault": f}, &out, http.StatusCreated)
	return out.Fault, err
}

// Faults lists the active faults.
func (c *Client) Faults(ctx context.Context) ([]faults.Rule, error) {
	var out struct {
		Faults []faults.Rule `json:"faults"`
	}
	err := c.do(ctx, http.MethodGet, "/admin/faults", nil, &out, http.StatusOK)
	return out.Faults, err
}

// RemoveFault switches a fault off ("all" for every fault) and returns how many were removed.
func (c *Client) RemoveFault(ctx context.Context, id string) (int, error) {
	var out struct {
		Removed int `json:"removed"`
	}
	err := c.do(ctx, http.MethodDelete, "/admin/faults/"+url.PathEscape(id), nil, &out, http.StatusOK)
	return out.Removed, err
}

// State is every resource and every pending task.
type State struct {
	Resources []services.Resource `json:"resources"`
	Tasks     []tasks.Task        `json:"tasks"`
	Projects  map[string]string   `json:"projects"` // project id -> name
}

// State returns the cloud's resources, optionally of one project.
func (c *Client) State(ctx context.Context, project string) (State, error) {
	var out State
	path := "/admin/state"
	if project != "" {
		path += "?project=" + url.QueryEscape(project)
	}
	err := c.do(ctx, http.MethodGet, path, nil, &out, http.StatusOK)
	return out, err
}

// Events returns the events after sequence number since.
func (c *Client) Events(ctx context.Context, since uint64) ([]store.Event, error) {
	var out struct {
		Events []store.Event `json:"events"`
	}
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/admin/events?since=%d", since), nil, &out, http.StatusOK)
	return out.Events, err
}

// Follow streams events after since to fn until ctx ends or fn returns an error.
func (c *Client) Follow(ctx context.Context, since uint64, fn func(store.Event) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/admin/events?since=%d&follow=true", c.base, since), nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Auth-Token", c.provider.Token())
	resp, err := c.provider.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("following events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("following events: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var e store.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return fmt.Errorf("decoding event: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}

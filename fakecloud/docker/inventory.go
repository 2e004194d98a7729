package docker

import (
	"context"
	"fmt"
	"os"

	"github.com/kaas-sandbox/sandbox/fakecloud/docker/dockercli"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

var _ services.World = (*Backend)(nil)

// Inventory lists the containers, networks and volumes labelled with this instance.
func (b *Backend) Inventory(ctx context.Context) ([]services.RealObject, error) {
	objs, err := b.docker.List(ctx, LabelInstance+"="+b.cfg.Instance)
	if err != nil {
		return nil, fmt.Errorf("listing the docker objects of %s: %w", b.cfg.Instance, err)
	}
	return realObjects(objs), nil
}

// realObjects names docker objects by the resources their labels say they stand for.
func realObjects(objs []dockercli.Object) []services.RealObject {
	out := make([]services.RealObject, 0, len(objs))
	for _, o := range objs {
		out = append(out, services.RealObject{Type: o.Labels[LabelType], ID: o.Labels[LabelID], Name: o.Name, Kind: o.Kind})
	}
	return out
}

// RemoveObject removes one docker object.
func (b *Backend) RemoveObject(ctx context.Context, o services.RealObject) error {
	return b.docker.Remove(ctx, o.Kind, o.Name)
}

// Down removes everything this instance made: containers first (with their volumes), then
// networks, then the backend's files. It returns what it removed.
func (b *Backend) Down(ctx context.Context) ([]services.RealObject, error) {
	objs, err := b.Inventory(ctx)
	if err != nil {
		return nil, err
	}
	done, err := removeAll(ctx, b.docker, objs)
	if err != nil {
		return done, err
	}
	if err := os.RemoveAll(b.cfg.DataDir); err != nil {
		return done, fmt.Errorf("removing %s: %w", b.cfg.DataDir, err)
	}
	return done, nil
}

// DownAll removes the docker objects of every fakecloud instance on this machine (their
// files stay in each instance's data directory).
func DownAll(ctx context.Context, cli dockercli.CLI) ([]services.RealObject, error) {
	objs, err := cli.List(ctx, LabelInstance)
	if err != nil {
		return nil, fmt.Errorf("listing fakecloud's docker objects: %w", err)
	}
	return removeAll(ctx, cli, realObjects(objs))
}

// removeAll removes objects, containers first (networks cannot go while used).
func removeAll(ctx context.Context, cli dockercli.CLI, objs []services.RealObject) ([]services.RealObject, error) {
	var done []services.RealObject
	for _, pass := range []string{"container", "network", "volume"} {
		for _, o := range objs {
			if o.Kind != pass {
				continue
			}
			if err := cli.Remove(ctx, o.Kind, o.Name); err != nil {
				return done, fmt.Errorf("removing %s %s: %w", o.Kind, o.Name, err)
			}
			done = append(done, o)
		}
	}
	return done, nil
}

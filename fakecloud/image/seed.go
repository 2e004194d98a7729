package image

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/versions"
)

// SeedConfig says which images a fresh region holds. Zero values take the defaults.
type SeedConfig struct {
	// Owner is the project owning the seeded images (the admin project).
	Owner string
	// Kubernetes lists the versions to make images for; nil reads the pinned list.
	Kubernetes []string
	// NamePrefix prefixes the version in the image name; default "kaas-node-".
	NamePrefix string
	// OSDistro is the os_distro property; default "debian".
	OSDistro string
	// NodeImage is the repository of the container image the docker backend runs for a server
	// booted from the image; the version is appended as its tag. Default "kaas/node".
	NodeImage string
	// Properties are added to every seeded image.
	Properties map[string]string
}

// seedNamespace makes seeded image ids stable: the same name gives the same id in every region.
var seedNamespace = uuid.MustParse("0d1d4a3e-6c2b-4f55-9a53-3c1f7e0c6b10")

// Seed creates one public, active image per Kubernetes version, named e.g.
// "kaas-node-v1.36.3", with the properties kube_version, os_distro and node_image. Images that
// already exist (by their stable id) are left alone.
func (s *Service) Seed(cfg SeedConfig) error {
	if cfg.NamePrefix == "" {
		cfg.NamePrefix = "kaas-node-"
	}
	if cfg.OSDistro == "" {
		cfg.OSDistro = "debian"
	}
	if cfg.NodeImage == "" {
		cfg.NodeImage = "kaas/node"
	}
	if cfg.Kubernetes == nil {
		l, err := versions.Load()
		if err != nil {
			return fmt.Errorf("seeding images: %w", err)
		}
		for _, k := range l.Kubernetes {
			cfg.Kubernetes = append(cfg.Kubernetes, k.Version)
		}
	}
	return s.env.DB.Update(func(tx *store.Tx) error {
		for _, v := range cfg.Kubernetes {
			name := cfg.NamePrefix + v
			id := uuid.NewSHA1(seedNamespace, []byte(name)).String()
			if _, ok := s.images.Get(id); ok {
				continue
			}
			props := map[string]string{"kube_version": v, "os_distro": cfg.OSDistro, "node_image": cfg.NodeImage + ":" + v}
			for k, val := range cfg.Properties {
				props[k] = val
			}
			now := time.Now().UTC().Truncate(time.Second)
			var size int64
			im := Image{ID: id, Name: &name, Status: StatusActive, Visibility: VisibilityPublic, Owner: cfg.Owner,
				ContainerFormat: "bare", DiskFormat: "raw", Size: &size, Tags: []string{"kaas"}, Properties: props,
				Checksum: "d41d8cd98f00b204e9800998ecf8427e", HashAlgo: "sha512",
				HashValue: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
				CreatedAt: now, UpdatedAt: now}
			if err := s.images.Put(tx, id, im); err != nil {
				return fmt.Errorf("seeding image %s: %w", name, err)
			}
			s.emit(tx, &im, "created", name+" (seed)")
		}
		return nil
	})
}

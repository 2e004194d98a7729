package image_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/fakecloud/servicetest"
)

// TestWholeCloud drives Glance through the service catalog of a whole fakecloud, as every
// gophercloud user does.
func TestWholeCloud(t *testing.T) {
	ctx := context.Background()
	h := cloudtest.Start(t)
	demo := h.Client(t, cloudtest.Demo, "image")
	admin := h.Client(t, cloudtest.Admin, "image")
	reader := h.Client(t, cloudtest.DemoReader, "image")

	// the seeded images: public, active, one per pinned Kubernetes version
	pages, err := images.List(demo, images.ListOpts{Visibility: images.ImageVisibilityPublic, SortKey: "name", SortDir: "asc"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seeded, _ := images.ExtractImages(pages)
	if len(seeded) != 3 {
		t.Fatalf("seeded images: %d", len(seeded))
	}
	for _, im := range seeded {
		if im.Status != images.ImageStatusActive || im.Properties["kube_version"] == nil || im.Properties["node_image"] == nil {
			t.Errorf("seeded image %+v", im)
		}
	}

	// create, upload, download, update, delete as a member
	im, err := images.Create(ctx, demo, images.CreateOpts{Name: "custom", ContainerFormat: "bare", DiskFormat: "raw",
		Properties: map[string]string{"kube_version": "v1.36.3"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := imagedata.Upload(ctx, demo, im.ID, bytes.NewReader([]byte("node image"))).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	rd, err := imagedata.Download(ctx, demo, im.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rd)
	rd.Close()
	if string(data) != "node image" {
		t.Fatalf("downloaded %q", data)
	}
	if got, err := images.Update(ctx, demo, im.ID, images.UpdateOpts{images.ReplaceImageName{NewName: "renamed"}}).Extract(); err != nil || got.Name != "renamed" {
		t.Fatalf("update: %+v %v", got, err)
	}
	// kube_version filters the seeded image and the custom one
	pages, _ = images.List(demo, images.ListOpts{}).AllPages(ctx)
	all, _ := images.ExtractImages(pages)
	if len(all) != 4 {
		t.Fatalf("demo lists %d images", len(all))
	}

	// isolation: the admin project sees it (admin), another member does not exist in the
	// harness, so check the reader role and the public-image policy instead
	if _, err := images.Create(ctx, reader, images.CreateOpts{Name: "nope"}).Extract(); servicetest.StatusCode(err) != 403 {
		t.Fatalf("reader creates: %v", err)
	}
	pub := images.ImageVisibilityPublic
	if _, err := images.Create(ctx, demo, images.CreateOpts{Name: "pub", Visibility: &pub}).Extract(); servicetest.StatusCode(err) != 403 {
		t.Fatalf("member publishes: %v", err)
	}
	if err := images.Delete(ctx, demo, seeded[0].ID).ExtractErr(); servicetest.StatusCode(err) != 403 {
		t.Fatalf("member deletes a seeded public image: %v", err)
	}
	priv := images.ImageVisibilityPrivate
	mine, err := images.Create(ctx, admin, images.CreateOpts{Name: "admin-only", Visibility: &priv}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.Get(ctx, demo, mine.ID).Extract(); servicetest.StatusCode(err) != 404 {
		t.Fatalf("demo reads admin's private image: %v", err)
	}
	if err := images.Delete(ctx, demo, im.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
}

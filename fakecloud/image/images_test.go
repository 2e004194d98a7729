package image

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/kaas-sandbox/sandbox/fakecloud/servicetest"
)

func allImages(t *testing.T, c *gophercloud.ServiceClient, opts images.ListOpts) []images.Image {
	t.Helper()
	pages, err := images.List(c, opts).AllPages(context.Background())
	if err != nil {
		t.Fatalf("listing images: %v", err)
	}
	out, err := images.ExtractImages(pages)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVersionDocuments(t *testing.T) {
	e := newTestEnv(t, Options{})
	for path, want := range map[string]int{"/image": 300, "/image/": 300, "/image/versions": 200, "/image/v2/": 300} {
		code, body := e.do(t, "", "GET", path, "", nil)
		if code != want {
			t.Errorf("GET %s = %d, want %d", path, code, want)
		}
		vs, _ := body["versions"].([]any)
		if len(vs) == 0 || vs[0].(map[string]any)["status"] != "CURRENT" {
			t.Errorf("GET %s: versions %v", path, body)
		}
	}
}

func TestImageLifecycle(t *testing.T) {
	e := newTestEnv(t, Options{DataDir: t.TempDir()})
	ctx := context.Background()
	demo := e.client("demo")
	prot := true
	im, err := images.Create(ctx, demo, images.CreateOpts{Name: "node", ContainerFormat: "bare", DiskFormat: "qcow2",
		Tags: []string{"a", "b"}, MinDisk: 10, Properties: map[string]string{"kube_version": "v1.36.3"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if im.Status != images.ImageStatusQueued || im.Owner != "demo" || im.Visibility != images.ImageVisibilityShared ||
		im.MinDiskGigabytes != 10 || im.Properties["kube_version"] != "v1.36.3" || len(im.Tags) != 2 {
		t.Fatalf("created image: %+v", im)
	}
	got, err := images.Get(ctx, demo, im.ID).Extract()
	if err != nil || got.Name != "node" {
		t.Fatalf("get: %+v %v", got, err)
	}

	// update with JSON patch
	got, err = images.Update(ctx, demo, im.ID, images.UpdateOpts{
		images.ReplaceImageName{NewName: "node2"},
		images.UpdateImageProperty{Op: images.AddOp, Name: "os_distro", Value: "debian"},
		images.UpdateImageProperty{Op: images.RemoveOp, Name: "kube_version"},
		images.ReplaceImageTags{NewTags: []string{"x"}},
		images.ReplaceImageMinRam{NewMinRam: 512},
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "node2" || got.Properties["os_distro"] != "debian" || got.Properties["kube_version"] != nil ||
		len(got.Tags) != 1 || got.MinRAMMegabytes != 512 {
		t.Fatalf("updated: %+v", got)
	}
	_, err = images.Update(ctx, demo, im.ID, images.UpdateOpts{images.UpdateImageProperty{Op: images.ReplaceOp, Name: "nope", Value: "x"}}).Extract()
	if servicetest.StatusCode(err) != 409 {
		t.Fatalf("replace of a missing property: %v", err)
	}

	// upload and download
	data := []byte(strings.Repeat("kaas", 1000))
	if err := imagedata.Upload(ctx, demo, im.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	got, _ = images.Get(ctx, demo, im.ID).Extract()
	sum := md5.Sum(data)
	if got.Status != images.ImageStatusActive || got.SizeBytes != int64(len(data)) || got.Checksum != hex.EncodeToString(sum[:]) ||
		got.Properties["os_hash_algo"] != "sha512" {
		t.Fatalf("after upload: %+v", got)
	}
	rd, err := imagedata.Download(ctx, demo, im.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(rd)
	rd.Close()
	if !bytes.Equal(back, data) {
		t.Fatalf("downloaded %d bytes, want %d", len(back), len(data))
	}
	if err := imagedata.Upload(ctx, demo, im.ID, bytes.NewReader(data)).ExtractErr(); servicetest.StatusCode(err) != 409 {
		t.Fatalf("second upload: %v", err)
	}
	_, err = images.Update(ctx, demo, im.ID, images.UpdateOpts{images.UpdateImageProperty{Op: images.ReplaceOp, Name: "disk_format", Value: "raw"}}).Extract()
	if servicetest.StatusCode(err) != 403 {
		t.Fatalf("disk_format change on an active image: %v", err)
	}

	// protected images cannot be deleted
	if _, err := images.Update(ctx, demo, im.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: prot}}).Extract(); err != nil {
		t.Fatal(err)
	}
	if err := images.Delete(ctx, demo, im.ID).ExtractErr(); servicetest.StatusCode(err) != 403 {
		t.Fatalf("delete of a protected image: %v", err)
	}
	_, _ = images.Update(ctx, demo, im.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: false}}).Extract()
	if err := images.Delete(ctx, demo, im.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := images.Get(ctx, demo, im.ID).Extract(); servicetest.StatusCode(err) != 404 {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestListFiltersSortAndPages(t *testing.T) {
	e := newTestEnv(t, Options{})
	ctx := context.Background()
	demo := e.client("demo")
	for i, name := range []string{"c", "a", "e", "b", "d"} {
		tags := []string{"all"}
		if i%2 == 0 {
			tags = append(tags, "even")
		}
		_, err := images.Create(ctx, demo, images.CreateOpts{Name: name, Tags: tags, Properties: map[string]string{"kind": "k" + name}}).Extract()
		if err != nil {
			t.Fatal(err)
		}
	}
	// paging through "next" with limit 2 sees every image once, in name order
	var names []string
	err := images.List(demo, images.ListOpts{Limit: 2, SortKey: "name", SortDir: "asc"}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		list, err := images.ExtractImages(p)
		for _, im := range list {
			names = append(names, im.Name)
		}
		return true, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, "") != "abcde" {
		t.Fatalf("paged names = %v", names)
	}
	if got := allImages(t, demo, images.ListOpts{Tags: []string{"all", "even"}}); len(got) != 3 {
		t.Fatalf("tag filter: %d images", len(got))
	}
	if got := allImages(t, demo, images.ListOpts{Name: "in:a,b"}); len(got) != 2 {
		t.Fatalf("name in: filter: %d images", len(got))
	}
	code, body := e.do(t, "demo", "GET", "/image/v2/images?kind=kd", "", nil)
	if code != 200 || len(body["images"].([]any)) != 1 || body["first"] != "/v2/images?kind=kd" || body["schema"] != "/v2/schemas/images" {
		t.Fatalf("property filter: %d %v", code, body)
	}
	if got := allImages(t, demo, images.ListOpts{Status: images.ImageStatusActive}); len(got) != 0 {
		t.Fatalf("status filter: %d images", len(got))
	}
	past := &images.ImageDateQuery{Date: time.Now().Add(-time.Hour), Filter: images.FilterGT}
	if got := allImages(t, demo, images.ListOpts{CreatedAtQuery: past}); len(got) != 5 {
		t.Fatalf("created_at gt an hour ago: %d images", len(got))
	}
	future := &images.ImageDateQuery{Date: time.Now().Add(time.Hour), Filter: images.FilterGTE}
	if got := allImages(t, demo, images.ListOpts{UpdatedAtQuery: future}); len(got) != 0 {
		t.Fatalf("updated_at gte in an hour: %d images", len(got))
	}
	if got := allImages(t, e.client("other"), images.ListOpts{}); len(got) != 0 {
		t.Fatalf("other project sees %d images", len(got))
	}
	for _, q := range []string{"sort_key=bogus", "sort_dir=up", "limit=-1", "limit=x", "marker=nope", "visibility=everyone", "status=bogus", "sort=name:asc&sort_key=id", "created_at=gt:yesterday"} {
		if code, _ := e.do(t, "demo", "GET", "/image/v2/images?"+q, "", nil); code != 400 {
			t.Errorf("list ?%s = %d, want 400", q, code)
		}
	}
}

func TestIsolationAndPolicy(t *testing.T) {
	e := newTestEnv(t, Options{})
	ctx := context.Background()
	demo, other, admin := e.client("demo"), e.client("other"), e.client("admin")
	priv, err := images.Create(ctx, demo, images.CreateOpts{Name: "mine"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.Get(ctx, other, priv.ID).Extract(); servicetest.StatusCode(err) != 404 {
		t.Fatalf("other project reads a private image: %v", err)
	}
	if err := images.Delete(ctx, other, priv.ID).ExtractErr(); servicetest.StatusCode(err) != 404 {
		t.Fatalf("other project deletes a private image: %v", err)
	}
	pub := images.ImageVisibilityPublic
	if _, err := images.Create(ctx, demo, images.CreateOpts{Name: "pub", Visibility: &pub}).Extract(); servicetest.StatusCode(err) != 403 {
		t.Fatalf("member creates a public image: %v", err)
	}
	shared, err := images.Create(ctx, admin, images.CreateOpts{Name: "pub", Visibility: &pub}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.Get(ctx, other, shared.ID).Extract(); err != nil {
		t.Fatalf("public image invisible: %v", err)
	}
	if _, err := images.Update(ctx, other, shared.ID, images.UpdateOpts{images.ReplaceImageName{NewName: "x"}}).Extract(); servicetest.StatusCode(err) != 403 {
		t.Fatalf("other project renames a public image: %v", err)
	}
	if err := images.Delete(ctx, other, shared.ID).ExtractErr(); servicetest.StatusCode(err) != 403 {
		t.Fatalf("other project deletes a public image: %v", err)
	}
	if len(allImages(t, admin, images.ListOpts{})) != 2 {
		t.Fatal("admin does not see every image")
	}
	if info, ok := e.svc.Image("other", shared.ID); !ok || info.Visibility != "public" {
		t.Fatalf("Image(other, public) = %+v %v", info, ok)
	}
	if _, ok := e.svc.Image("other", priv.ID); ok {
		t.Fatal("Image(other, private) visible")
	}
	if code, _ := e.do(t, "reader", "POST", "/image/v2/images", "application/json", map[string]any{"name": "r"}); code != 403 {
		t.Fatalf("reader creates an image: %d", code)
	}
	if code, _ := e.do(t, "", "GET", "/image/v2/images", "", nil); code != 401 {
		t.Fatalf("no token: %d", code)
	}
}

func TestBadInput(t *testing.T) {
	e := newTestEnv(t, Options{})
	code, im := e.do(t, "demo", "POST", "/image/v2/images", "application/json", map[string]any{"name": "x"})
	if code != 201 {
		t.Fatal(code)
	}
	id := im["id"].(string)
	cases := []struct {
		method, path, ct string
		body             any
		want             int
	}{
		{"POST", "/image/v2/images", "application/json", "{bad", 400},
		{"POST", "/image/v2/images", "application/json", `[1]`, 400},
		{"POST", "/image/v2/images", "application/json", map[string]any{"status": "active"}, 403},
		{"POST", "/image/v2/images", "application/json", map[string]any{"location": "x"}, 403},
		{"POST", "/image/v2/images", "application/json", map[string]any{"disk_format": "floppy"}, 400},
		{"POST", "/image/v2/images", "application/json", map[string]any{"min_ram": "lots"}, 400},
		{"POST", "/image/v2/images", "application/json", map[string]any{"min_ram": -1}, 400},
		{"POST", "/image/v2/images", "application/json", map[string]any{"prop": 5}, 400},
		{"POST", "/image/v2/images", "application/json", map[string]any{"id": "not-a-uuid"}, 400},
		{"POST", "/image/v2/images", "application/json", map[string]any{"id": id}, 409},
		{"POST", "/image/v2/images", "application/json", map[string]any{"owner": "other"}, 403},
		{"POST", "/image/v2/images", "application/json", map[string]any{"tags": "x"}, 400},
		{"POST", "/image/v2/images", "application/json", strings.Repeat(" ", 2<<20), 413},
		{"PATCH", "/image/v2/images/" + id, "application/json", `[]`, 415},
		{"PATCH", "/image/v2/images/" + id, patchV21, `{}`, 400},
		{"PATCH", "/image/v2/images/" + id, patchV21, `[{"op":"move","path":"/name"}]`, 400},
		{"PATCH", "/image/v2/images/" + id, patchV21, `[{"op":"replace","path":"name","value":"y"}]`, 400},
		{"PATCH", "/image/v2/images/" + id, patchV21, `[{"op":"replace","path":"/name"}]`, 400},
		{"PATCH", "/image/v2/images/" + id, patchV21, `[{"op":"remove","path":"/name"}]`, 403},
		{"PATCH", "/image/v2/images/" + id, patchV21, `[{"op":"remove","path":"/nope"}]`, 409},
		{"PATCH", "/image/v2/images/" + id, patchV21, `[{"op":"replace","path":"/status","value":"active"}]`, 403},
		{"PATCH", "/image/v2/images/" + id, patchV21, `[{"op":"replace","path":"/visibility","value":"public"}]`, 403},
		{"PATCH", "/image/v2/images/" + id, patchV21, `[{"op":"add","path":"/a/b","value":"x"}]`, 400},
		{"PUT", "/image/v2/images/" + id + "/file", "application/octet-stream", "data", 400},
		{"PUT", "/image/v2/images/" + id + "/file", "text/plain", "data", 415},
		{"GET", "/image/v2/images/" + id + "/file", "", nil, 204},
		{"GET", "/image/v2/images/not-an-id", "", nil, 404},
		{"DELETE", "/image/v2/images/" + id + "/tags/none", "", nil, 404},
		{"PUT", "/image/v2/images/" + id + "/tags/" + strings.Repeat("t", 256), "", nil, 400},
		{"POST", "/image/v2/images/" + id + "/actions/deactivate", "", nil, 403},
	}
	for _, c := range cases {
		code, body := e.do(t, "demo", c.method, c.path, c.ct, c.body)
		if code != c.want {
			t.Errorf("%s %s %v: %d %v, want %d", c.method, c.path, c.body, code, body, c.want)
		}
		if code >= 400 && (body["code"] == nil || body["message"] == nil || body["title"] == nil) {
			t.Errorf("%s %s: error body %v is not Glance's", c.method, c.path, body)
		}
	}
	// tags: add twice is fine, delete works
	for i := 0; i < 2; i++ {
		if code, _ := e.do(t, "demo", "PUT", "/image/v2/images/"+id+"/tags/t1", "", nil); code != 204 {
			t.Fatalf("add tag: %d", code)
		}
	}
	if code, _ := e.do(t, "demo", "DELETE", "/image/v2/images/"+id+"/tags/t1", "", nil); code != 204 {
		t.Fatalf("delete tag: %d", code)
	}
	// small data is kept in the store without a data directory
	e.do(t, "demo", "PATCH", "/image/v2/images/"+id, patchV21, `[{"op":"add","path":"/disk_format","value":"raw"},{"op":"add","path":"/container_format","value":"bare"}]`)
	if code, _ := e.do(t, "demo", "PUT", "/image/v2/images/"+id+"/file", "application/octet-stream", "hello"); code != 204 {
		t.Fatalf("upload: %d", code)
	}
	req, _ := http.NewRequest("GET", e.URL+"/image/v2/images/"+id+"/file", nil)
	req.Header.Set("X-Auth-Token", "demo")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(data) != "hello" {
		t.Fatalf("download: %d %q", resp.StatusCode, data)
	}
	// deactivate (admin) forbids downloads by members
	if code, _ := e.do(t, "admin", "POST", "/image/v2/images/"+id+"/actions/deactivate", "", nil); code != 204 {
		t.Fatalf("deactivate: %d", code)
	}
	if code, _ := e.do(t, "demo", "GET", "/image/v2/images/"+id+"/file", "", nil); code != 403 {
		t.Fatalf("download of a deactivated image: %d", code)
	}
	if code, _ := e.do(t, "admin", "POST", "/image/v2/images/"+id+"/actions/reactivate", "", nil); code != 204 {
		t.Fatalf("reactivate: %d", code)
	}
}

func TestSeed(t *testing.T) {
	e := newTestEnv(t, Options{})
	for i := 0; i < 2; i++ {
		if err := e.svc.Seed(SeedConfig{Owner: "admin"}); err != nil {
			t.Fatal(err)
		}
	}
	list := allImages(t, e.client("demo"), images.ListOpts{})
	if len(list) != 3 {
		t.Fatalf("seeded %d images, want one per pinned version (3)", len(list))
	}
	for _, im := range list {
		kv, _ := im.Properties["kube_version"].(string)
		if im.Status != images.ImageStatusActive || im.Visibility != images.ImageVisibilityPublic ||
			im.Name != "kaas-node-"+kv || im.Properties["node_image"] != "kaas/node:"+kv || im.Properties["os_distro"] != "debian" {
			t.Errorf("seeded image %+v", im)
		}
		if info, ok := e.svc.Image("demo", im.ID); !ok || info.Properties["kube_version"] != kv {
			t.Errorf("Image(demo, %s) = %+v, %v", im.ID, info, ok)
		}
	}
	if rs := e.svc.Resources(); len(rs) != 3 || rs[0].Service != "image" {
		t.Fatalf("resources: %+v", rs)
	}
}

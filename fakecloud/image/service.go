package image

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Options configure the image service.
type Options struct {
	// DataDir keeps uploaded image data, one file per image. Empty keeps the data of images
	// up to 1 MiB in the store and only the size and hashes of bigger ones.
	DataDir string
}

// Service is the Glance v2 API.
type Service struct {
	env     services.Env
	opts    Options
	images  *store.Table[Image]
	data    *store.Table[imageData]
	members *store.Table[Member]
}

var _ services.Service = (*Service)(nil)
var _ services.Images = (*Service)(nil)

// New creates the image service and its tables.
func New(env services.Env, opts Options) (*Service, error) {
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating image data directory: %w", err)
		}
	}
	images, err := store.NewTable[Image](env.DB, "images")
	if err != nil {
		return nil, err
	}
	data, err := store.NewTable[imageData](env.DB, "image_data")
	if err != nil {
		return nil, err
	}
	members, err := store.NewTable[Member](env.DB, "image_members")
	if err != nil {
		return nil, err
	}
	return &Service{env: env, opts: opts, images: images, data: data, members: members}, nil
}

// Routes registers Glance's routes under /image.
func (s *Service) Routes() {
	rt := s.env.Router("image", "/image", httpapi.StyleGlance)
	// "GET " is the bare prefix (/image): keystoneauth's discovery does not follow the redirect
	// ServeMux would answer with.
	rt.HandlePublic("GET ", "versions", s.versions(http.StatusMultipleChoices))
	rt.HandlePublic("GET /{$}", "versions", s.versions(http.StatusMultipleChoices))
	rt.HandlePublic("GET /versions", "versions", s.versions(http.StatusOK))
	rt.HandlePublic("GET /v2/{$}", "versions", s.versions(http.StatusMultipleChoices))
	rt.HandlePublic("GET /v2", "versions", s.versions(http.StatusMultipleChoices))
	rt.Handle("GET /v2/schemas/image", "schema.image", s.schemaImage)
	rt.Handle("GET /v2/schemas/images", "schema.images", s.schemaImages)
	rt.Handle("GET /v2/images", "image.list", s.list)
	rt.Handle("POST /v2/images", "image.create", s.create)
	rt.Handle("GET /v2/images/{id}", "image.get", s.get)
	rt.Handle("PATCH /v2/images/{id}", "image.update", s.update)
	rt.Handle("DELETE /v2/images/{id}", "image.delete", s.delete)
	rt.Handle("PUT /v2/images/{id}/tags/{tag}", "image.tag.add", s.addTag)
	rt.Handle("DELETE /v2/images/{id}/tags/{tag}", "image.tag.delete", s.deleteTag)
	rt.Handle("PUT /v2/images/{id}/file", "image.upload", s.upload)
	rt.Handle("GET /v2/images/{id}/file", "image.download", s.download)
	rt.Handle("POST /v2/images/{id}/actions/deactivate", "image.deactivate", s.deactivate)
	rt.Handle("POST /v2/images/{id}/actions/reactivate", "image.reactivate", s.reactivate)
	rt.Handle("GET /v2/images/{id}/members", "image.member.list", s.listMembers)
	rt.Handle("POST /v2/images/{id}/members", "image.member.create", s.createMember)
	rt.Handle("GET /v2/images/{id}/members/{member}", "image.member.get", s.getMember)
	rt.Handle("PUT /v2/images/{id}/members/{member}", "image.member.update", s.updateMember)
	rt.Handle("DELETE /v2/images/{id}/members/{member}", "image.member.delete", s.deleteMember)
	rt.Handle("GET /v2/schemas/member", "schema.member", s.schemaMember)
	rt.Handle("GET /v2/schemas/members", "schema.members", s.schemaMembers)
}

// Resources lists every image, for `fakecloud state`.
func (s *Service) Resources() []services.Resource {
	var out []services.Resource
	for _, im := range s.images.List(nil) {
		out = append(out, services.Resource{Service: "image", Kind: "image", ID: im.ID, Name: im.NameOr(""), Project: im.Owner, Status: im.Status})
	}
	slices.SortFunc(out, func(a, b services.Resource) int {
		if a.Project != b.Project {
			return cmpStr(a.Project, b.Project)
		}
		return cmpStr(a.ID, b.ID)
	})
	return out
}

// Image returns image id if project may use it (public, community, its own, or shared with
// it), for Nova.
func (s *Service) Image(project, id string) (services.ImageInfo, bool) {
	im, ok := s.images.Get(id)
	if !ok {
		return services.ImageInfo{}, false
	}
	if !s.visible(&httpapi.Principal{ProjectID: project}, &im) {
		return services.ImageInfo{}, false
	}
	props := map[string]string{}
	for k, v := range im.Properties {
		props[k] = v
	}
	return services.ImageInfo{ID: im.ID, Name: im.NameOr(""), Status: im.Status, Owner: im.Owner,
		Visibility: im.Visibility, MinDisk: im.MinDisk, MinRAM: im.MinRAM, Properties: props}, true
}

// visible reports whether p may see im (shows it in GET; lists apply their own defaults):
// admins and the owner always, everyone for public and community images, and the members
// of a shared image whatever their membership status.
func (s *Service) visible(p *httpapi.Principal, im *Image) bool {
	if p.IsAdmin() || im.Owner == p.ProjectID {
		return true
	}
	switch im.Visibility {
	case VisibilityPublic, VisibilityCommunity:
		return true
	case VisibilityShared:
		_, ok := s.memberStatus(im.ID, p.ProjectID)
		return ok
	}
	return false
}

// canModify reports whether p may change im (the owner or an admin).
func canModify(p *httpapi.Principal, im *Image) bool {
	return p.IsAdmin() || im.Owner == p.ProjectID
}

func notFound(id string) error {
	return httpapi.Errorf(http.StatusNotFound, "NotFound", "No image found with ID %s", id)
}

// lookup returns the image the caller named in the path, or Glance's 404.
func (s *Service) lookup(r *http.Request) (Image, *httpapi.Principal, error) {
	p := httpapi.PrincipalFrom(r.Context())
	id := r.PathValue("id")
	im, ok := s.images.Get(id)
	if !ok || !s.visible(p, &im) {
		return Image{}, p, notFound(id)
	}
	return im, p, nil
}

// view renders an image as Glance's image document.
func view(im *Image) map[string]any {
	m := map[string]any{}
	for k, v := range im.Properties {
		m[k] = v
	}
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var name any
	if im.Name != nil {
		name = *im.Name
	}
	var size any
	if im.Size != nil {
		size = *im.Size
	}
	tags := im.Tags
	if tags == nil {
		tags = []string{}
	}
	m["id"] = im.ID
	m["name"] = name
	m["status"] = im.Status
	m["visibility"] = im.Visibility
	m["protected"] = im.Protected
	m["os_hidden"] = im.Hidden
	m["owner"] = im.Owner
	m["container_format"] = null(im.ContainerFormat)
	m["disk_format"] = null(im.DiskFormat)
	m["min_disk"] = im.MinDisk
	m["min_ram"] = im.MinRAM
	m["size"] = size
	m["virtual_size"] = nil
	m["checksum"] = null(im.Checksum)
	m["os_hash_algo"] = null(im.HashAlgo)
	m["os_hash_value"] = null(im.HashValue)
	m["tags"] = tags
	m["created_at"] = im.CreatedAt.UTC().Format(time.RFC3339)
	m["updated_at"] = im.UpdatedAt.UTC().Format(time.RFC3339)
	m["self"] = "/v2/images/" + im.ID
	m["file"] = "/v2/images/" + im.ID + "/file"
	m["schema"] = "/v2/schemas/image"
	if im.Size != nil && im.Status == StatusActive {
		m["stores"] = "file"
	}
	return m
}

func (s *Service) dataPath(id string) string { return filepath.Join(s.opts.DataDir, id) }

func (s *Service) emit(tx *store.Tx, im *Image, action, detail string) {
	tx.Emit(store.Event{Service: "image", Kind: "image", ID: im.ID, Project: im.Owner, Action: action, Detail: detail})
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

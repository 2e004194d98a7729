package image

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// The media types Glance accepts for PATCH /v2/images/{id}.
const (
	patchV21 = "application/openstack-images-v2.1-json-patch"
	patchV20 = "application/openstack-images-v2.0-json-patch"
)

// patchOp is one operation of a JSON patch document.
type patchOp struct {
	Op    string          `json:"op"`
	Path  json.RawMessage `json:"path"`
	Value json.RawMessage `json:"value"`
	// Glance v2.0 patches name the operation as the key: {"replace": "/name", "value": ...}.
	Add     json.RawMessage `json:"add"`
	Replace json.RawMessage `json:"replace"`
	Remove  json.RawMessage `json:"remove"`
}

// change is a validated patch operation on one top-level attribute.
type change struct {
	op    string
	attr  string
	value any
}

func parsePatch(ops []patchOp, v20 bool) ([]change, error) {
	var out []change
	for _, o := range ops {
		op, path := o.Op, o.Path
		if op == "" {
			for name, p := range map[string]json.RawMessage{"add": o.Add, "replace": o.Replace, "remove": o.Remove} {
				if p != nil {
					op, path = name, p
				}
			}
		}
		switch op {
		case "add", "replace", "remove":
		case "":
			return nil, httpapi.BadRequest("Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.")
		default:
			return nil, httpapi.BadRequest("Invalid operation: `%s`. It must be one of the following: add, remove, replace.", op)
		}
		var p string
		if path == nil || json.Unmarshal(path, &p) != nil {
			return nil, httpapi.BadRequest("Unable to find `path` in JSON Schema change. It must be a string.")
		}
		if !v20 || strings.HasPrefix(p, "/") {
			if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
				return nil, httpapi.BadRequest("Json path should start with a '/', end with no '/', no 2 subsequent '/' are allowed.")
			}
			p = p[1:]
		}
		p = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
		if strings.Contains(p, "/") || p == "" {
			return nil, httpapi.BadRequest("Invalid JSON pointer for this resource: '/%s'", p)
		}
		c := change{op: op, attr: p}
		if op != "remove" {
			if o.Value == nil {
				return nil, httpapi.BadRequest("Unable to find `value` in JSON Schema change.")
			}
			if err := json.Unmarshal(o.Value, &c.value); err != nil {
				return nil, httpapi.BadRequest("Malformed value in JSON Schema change: %v", err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// coreAttrs are the attributes that always exist (and cannot be removed).
var coreAttrs = map[string]bool{"id": true, "name": true, "status": true, "visibility": true, "protected": true,
	"os_hidden": true, "owner": true, "container_format": true, "disk_format": true, "min_disk": true,
	"min_ram": true, "tags": true, "checksum": true, "os_hash_algo": true, "os_hash_value": true, "size": true,
	"virtual_size": true, "created_at": true, "updated_at": true}

// apply makes one change to im with Glance's semantics: add sets, replace needs the
// attribute to exist, remove deletes an extra property.
func applyChange(p *httpapi.Principal, im *Image, c change, v20 bool) error {
	if err := checkName(c.attr, false); err != nil {
		return err
	}
	_, isProp := im.Properties[c.attr]
	exists := coreAttrs[c.attr] || isProp
	switch c.op {
	case "add":
		if v20 && exists {
			return httpapi.Conflict("Property %s already present.", c.attr)
		}
		return setAttr(p, im, c.attr, c.value, false)
	case "replace":
		if !exists {
			return httpapi.Conflict("Property %s does not exist.", c.attr)
		}
		return setAttr(p, im, c.attr, c.value, false)
	default: // remove
		if coreAttrs[c.attr] {
			return forbidden("Property %s may not be removed.", c.attr)
		}
		if !isProp {
			return httpapi.Conflict("Property %s does not exist.", c.attr)
		}
		delete(im.Properties, c.attr)
		return nil
	}
}

func (s *Service) update(w http.ResponseWriter, r *http.Request) error {
	im, p, err := s.lookup(r)
	if err != nil {
		return err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != patchV21 && ct != patchV20 {
		w.Header().Set("Accept-Patch", patchV20+", "+patchV21)
		return httpapi.Errorf(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"The request media type %s is not supported by this server.", orNone(ct))
	}
	var ops []patchOp
	if err := httpapi.Decode(r, &ops); err != nil {
		return err
	}
	changes, err := parsePatch(ops, ct == patchV20)
	if err != nil {
		return err
	}
	if !canModify(p, &im) {
		return forbidden("You are not permitted to modify this image.")
	}
	var out Image
	err = s.env.DB.Update(func(tx *store.Tx) error {
		cur, ok := s.images.Get(im.ID)
		if !ok {
			return notFound(im.ID)
		}
		before := cur.Status
		for _, c := range changes {
			if err := applyChange(p, &cur, c, ct == patchV20); err != nil {
				return err
			}
		}
		cur.UpdatedAt = time.Now().UTC().Truncate(time.Second)
		if err := s.images.Put(tx, cur.ID, cur); err != nil {
			return err
		}
		s.emit(tx, &cur, "updated", before)
		out = cur
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, view(&out))
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

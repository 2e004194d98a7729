package compute

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func (s *Service) flavorRoutes(rt *httpapi.Router, h func(handler) httpapi.HandlerFunc) {
	rt.Handle("GET /v2.1/flavors", "flavor.list", h(func(c *call) error { return s.listFlavors(c, false) }))
	rt.Handle("GET /v2.1/flavors/detail", "flavor.list", h(func(c *call) error { return s.listFlavors(c, true) }))
	rt.Handle("GET /v2.1/flavors/{id}", "flavor.get", h(s.getFlavor))
	rt.Handle("POST /v2.1/flavors", "flavor.create", h(s.createFlavor))
	rt.Handle("PUT /v2.1/flavors/{id}", "flavor.update", h(s.updateFlavor))
	rt.Handle("DELETE /v2.1/flavors/{id}", "flavor.delete", h(s.deleteFlavor))
	rt.Handle("GET /v2.1/flavors/{id}/os-flavor-access", "flavor.access.list", h(s.listFlavorAccess))
	rt.Handle("POST /v2.1/flavors/{id}/action", "flavor.action", h(s.flavorAction))
	rt.Handle("GET /v2.1/flavors/{id}/os-extra_specs", "flavor.extraspecs.list", h(s.listExtraSpecs))
	rt.Handle("POST /v2.1/flavors/{id}/os-extra_specs", "flavor.extraspecs.create", h(s.createExtraSpecs))
	rt.Handle("GET /v2.1/flavors/{id}/os-extra_specs/{key}", "flavor.extraspecs.get", h(s.getExtraSpec))
	rt.Handle("PUT /v2.1/flavors/{id}/os-extra_specs/{key}", "flavor.extraspecs.update", h(s.updateExtraSpec))
	rt.Handle("DELETE /v2.1/flavors/{id}/os-extra_specs/{key}", "flavor.extraspecs.delete", h(s.deleteExtraSpec))
}

// DefaultFlavors is the flavor set of a fresh region: VM sizes and bare-metal sizes. The
// bare-metal flavors ask for one node of a custom resource class and zero VCPU, MEMORY_MB and
// DISK_GB, as Ironic flavors do.
func DefaultFlavors() []Flavor {
	vm := func(name string, vcpus, ramGiB, disk int) Flavor {
		return Flavor{Name: name, VCPUs: vcpus, RAM: ramGiB * 1024, Disk: disk, IsPublic: true, RxTxFactor: 1}
	}
	bm := func(name, class string, vcpus, ramGiB, disk int) Flavor {
		f := vm(name, vcpus, ramGiB, disk)
		f.Description = "Bare-metal server, resource class " + class
		f.ExtraSpecs = map[string]string{
			"resources:" + class: "1", "resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0",
		}
		return f
	}
	return []Flavor{
		vm("g1.small", 1, 2, 20),
		vm("g1.medium", 2, 4, 40),
		vm("g1.large", 4, 8, 80),
		vm("g1.xlarge", 8, 16, 160),
		bm("bm1.medium", "CUSTOM_BAREMETAL_MEDIUM", 32, 128, 960),
		bm("bm1.large", "CUSTOM_BAREMETAL_LARGE", 64, 256, 1920),
	}
}

var flavorNS = uuid.MustParse("6f0c3a52-8f7e-4f55-9a38-5b1b2c1d0f11")

// FlavorID is the stable id a seeded flavor without one gets: a UUID derived from its name.
func FlavorID(name string) string { return uuid.NewSHA1(flavorNS, []byte(name)).String() }

// Seed stores the given flavors (DefaultFlavors() when nil) unless a flavor with the same id
// exists already; flavors without an id get FlavorID(name).
func (s *Service) Seed(flavors []Flavor) error {
	if flavors == nil {
		flavors = DefaultFlavors()
	}
	return s.env.DB.Update(func(tx *store.Tx) error {
		for _, f := range flavors {
			if f.ID == "" {
				f.ID = FlavorID(f.Name)
			}
			if _, ok := s.flavors.Get(f.ID); ok {
				continue
			}
			if f.Created.IsZero() {
				f.Created = time.Now().UTC()
			}
			if f.RxTxFactor == 0 {
				f.RxTxFactor = 1
			}
			if err := s.flavors.Put(tx, f.ID, f); err != nil {
				return err
			}
			emit(tx, "flavor", f.ID, "", "created", f.Name)
		}
		return nil
	})
}

// flavorVisible reports whether the caller may use or see f.
func flavorVisible(c *call, f *Flavor) bool {
	return f.IsPublic || c.p.IsAdmin() || slices.Contains(f.Projects, c.p.ProjectID)
}

// lookupFlavor returns a flavor visible to the caller, or a 404.
func (s *Service) lookupFlavor(c *call, id string) (Flavor, error) {
	f, ok := s.flavors.Get(id)
	if !ok || !flavorVisible(c, &f) {
		return f, httpapi.NotFound("Flavor", id)
	}
	return f, nil
}

func (c *call) flavorBody(f *Flavor, detail bool) map[string]any {
	b := map[string]any{"id": f.ID, "name": f.Name, "links": c.links("flavors/" + f.ID)}
	if c.mv.AtLeast(55) {
		b["description"] = nilIfEmpty(f.Description)
	}
	if !detail {
		return b
	}
	b["ram"] = f.RAM
	b["disk"] = f.Disk
	b["vcpus"] = f.VCPUs
	if f.Swap == 0 && !c.mv.AtLeast(75) {
		b["swap"] = ""
	} else {
		b["swap"] = f.Swap
	}
	b["OS-FLV-EXT-DATA:ephemeral"] = f.Ephemeral
	b["OS-FLV-DISABLED:disabled"] = false
	b["os-flavor-access:is_public"] = f.IsPublic
	b["rxtx_factor"] = f.RxTxFactor
	if c.mv.AtLeast(61) {
		es := f.ExtraSpecs
		if es == nil {
			es = map[string]string{}
		}
		b["extra_specs"] = es
	}
	return b
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Service) listFlavors(c *call, detail bool) error {
	q := c.r.URL.Query()
	public := "true"
	if c.p.IsAdmin() {
		switch v := strings.ToLower(q.Get("is_public")); v {
		case "", "true", "t", "1", "yes", "y", "on":
		case "none":
			public = "none"
		case "false", "f", "0", "no", "n", "off":
			public = "false"
		default:
			return httpapi.BadRequest("Invalid is_public filter [%s]", q.Get("is_public"))
		}
	}
	minRAM, err := queryInt(q.Get("minRam"), "minRam")
	if err != nil {
		return err
	}
	minDisk, err := queryInt(q.Get("minDisk"), "minDisk")
	if err != nil {
		return err
	}
	all := s.flavors.List(func(_ string, f *Flavor) bool {
		switch public {
		case "true":
			if !f.IsPublic && !(c.p.IsAdmin() || slices.Contains(f.Projects, c.p.ProjectID)) {
				return false
			}
			if c.p.IsAdmin() && !f.IsPublic {
				return false
			}
		case "false":
			if f.IsPublic {
				return false
			}
		}
		return f.RAM >= minRAM && f.Disk >= minDisk
	})
	page, err := httpapi.Paginate(c.r, all, func(f Flavor) string { return f.ID })
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(page.Items))
	for i := range page.Items {
		out = append(out, c.flavorBody(&page.Items[i], detail))
	}
	body := map[string]any{"flavors": out}
	if page.Next != "" {
		body["flavors_links"] = httpapi.Links(c.r, page.Next)
	}
	return c.json(http.StatusOK, body)
}

func queryInt(v, name string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, httpapi.BadRequest("Invalid %s filter [%s]", name, v)
	}
	return n, nil
}

func (s *Service) getFlavor(c *call) error {
	f, err := s.lookupFlavor(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"flavor": c.flavorBody(&f, true)})
}

var flavorIDRe = regexp.MustCompile(`^[a-zA-Z0-9_.\- ]{1,255}$`)

// intField reads a JSON integer (or a string holding one, as Nova accepts) of at least min.
func intField(raw json.RawMessage, name string, min int) (int, error) {
	var n json.Number
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return 0, httpapi.BadRequest("Invalid input for field/attribute %s. Value: %s. is not an integer", name, raw)
	}
	switch t := v.(type) {
	case json.Number:
		n = t
	case string:
		n = json.Number(strings.TrimSpace(t))
	default:
		return 0, httpapi.BadRequest("Invalid input for field/attribute %s. Value: %s. %s is not of type 'integer', 'string'", name, raw, raw)
	}
	i, err := strconv.Atoi(string(n))
	if err != nil {
		return 0, httpapi.BadRequest("Invalid input for field/attribute %s. Value: %s. %s is not an integer", name, raw, raw)
	}
	if i < min {
		return 0, httpapi.BadRequest("Invalid input for field/attribute %s. Value: %d. %d is less than the minimum of %d", name, i, i, min)
	}
	if i > 1<<31-1 {
		return 0, httpapi.BadRequest("Invalid input for field/attribute %s. Value: %d. %d is greater than the maximum of 2147483647", name, i, i)
	}
	return i, nil
}

func (s *Service) createFlavor(c *call) error {
	if err := c.requireAdmin("os_compute_api:os-flavor-manage:create"); err != nil {
		return err
	}
	var body struct {
		Flavor *struct {
			Name        *string         `json:"name"`
			ID          *string         `json:"id"`
			RAM         json.RawMessage `json:"ram"`
			VCPUs       json.RawMessage `json:"vcpus"`
			Disk        json.RawMessage `json:"disk"`
			Swap        json.RawMessage `json:"swap"`
			Ephemeral   json.RawMessage `json:"OS-FLV-EXT-DATA:ephemeral"`
			RxTxFactor  *float64        `json:"rxtx_factor"`
			IsPublic    *bool           `json:"os-flavor-access:is_public"`
			Description *string         `json:"description"`
		} `json:"flavor"`
	}
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	in := body.Flavor
	if in == nil {
		return httpapi.BadRequest("Invalid input for field/attribute flavor. 'flavor' is a required property")
	}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" || len(*in.Name) > 255 {
		return httpapi.BadRequest("Invalid input for field/attribute name. 'name' is a required property of 1 to 255 characters")
	}
	for _, req := range []struct {
		name string
		raw  json.RawMessage
	}{{"ram", in.RAM}, {"vcpus", in.VCPUs}, {"disk", in.Disk}} {
		if len(req.raw) == 0 {
			return httpapi.BadRequest("Invalid input for field/attribute flavor. '%s' is a required property", req.name)
		}
	}
	f := Flavor{Name: strings.TrimSpace(*in.Name), IsPublic: true, RxTxFactor: 1, Created: time.Now().UTC()}
	var err error
	if f.RAM, err = intField(in.RAM, "ram", 1); err != nil {
		return err
	}
	if f.VCPUs, err = intField(in.VCPUs, "vcpus", 1); err != nil {
		return err
	}
	if f.Disk, err = intField(in.Disk, "disk", 0); err != nil {
		return err
	}
	if len(in.Swap) > 0 && string(in.Swap) != `""` {
		if f.Swap, err = intField(in.Swap, "swap", 0); err != nil {
			return err
		}
	}
	if len(in.Ephemeral) > 0 {
		if f.Ephemeral, err = intField(in.Ephemeral, "OS-FLV-EXT-DATA:ephemeral", 0); err != nil {
			return err
		}
	}
	if in.RxTxFactor != nil {
		if *in.RxTxFactor <= 0 {
			return httpapi.BadRequest("Invalid input for field/attribute rxtx_factor. Value: %v. must be greater than 0", *in.RxTxFactor)
		}
		f.RxTxFactor = *in.RxTxFactor
	}
	if in.IsPublic != nil {
		f.IsPublic = *in.IsPublic
	}
	if in.Description != nil {
		if !c.mv.AtLeast(55) {
			return httpapi.BadRequest("Invalid input for field/attribute flavor. Additional properties are not allowed ('description' was unexpected)")
		}
		if len(*in.Description) > 65535 {
			return httpapi.BadRequest("Invalid input for field/attribute description: longer than 65535 characters")
		}
		f.Description = *in.Description
	}
	f.ID = uuid.NewString()
	if in.ID != nil && *in.ID != "" {
		if !flavorIDRe.MatchString(*in.ID) {
			return httpapi.BadRequest("Invalid input for field/attribute id. Value: %s. does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'", *in.ID)
		}
		f.ID = *in.ID
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		if _, dup := s.flavors.Get(f.ID); dup {
			return httpapi.Conflict("Flavor with ID %s already exists.", f.ID)
		}
		if s.flavors.Count(func(_ string, o *Flavor) bool { return o.Name == f.Name }) > 0 {
			return httpapi.Conflict("Flavor with name %s already exists.", f.Name)
		}
		if err := s.flavors.Put(tx, f.ID, f); err != nil {
			return err
		}
		emit(tx, "flavor", f.ID, "", "created", f.Name)
		return nil
	})
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"flavor": c.flavorBody(&f, true)})
}

func (s *Service) updateFlavor(c *call) error {
	if !c.mv.AtLeast(55) {
		return httpapi.Errorf(http.StatusNotFound, "NotFound", "The resource could not be found.")
	}
	if err := c.requireAdmin("os_compute_api:os-flavor-manage:update"); err != nil {
		return err
	}
	var body struct {
		Flavor *struct {
			Description *string `json:"description"`
		} `json:"flavor"`
	}
	if err := httpapi.DecodeStrict(c.r, &body); err != nil {
		return err
	}
	if body.Flavor == nil || body.Flavor.Description == nil {
		return httpapi.BadRequest("Invalid input for field/attribute flavor. 'description' is a required property")
	}
	id := c.r.PathValue("id")
	var f Flavor
	err := s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		f, err = s.flavors.Modify(tx, id, func(f *Flavor) error { f.Description = *body.Flavor.Description; return nil })
		if err != nil {
			return httpapi.NotFound("Flavor", id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"flavor": c.flavorBody(&f, true)})
}

func (s *Service) deleteFlavor(c *call) error {
	if err := c.requireAdmin("os_compute_api:os-flavor-manage:delete"); err != nil {
		return err
	}
	id := c.r.PathValue("id")
	err := s.env.DB.Update(func(tx *store.Tx) error {
		if err := s.flavors.Delete(tx, id); err != nil {
			return httpapi.NotFound("Flavor", id)
		}
		emit(tx, "flavor", id, "", "deleted", "")
		return nil
	})
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}

func accessList(f *Flavor) map[string]any {
	out := make([]map[string]string, 0, len(f.Projects))
	for _, p := range f.Projects {
		out = append(out, map[string]string{"flavor_id": f.ID, "tenant_id": p})
	}
	return map[string]any{"flavor_access": out}
}

func (s *Service) listFlavorAccess(c *call) error {
	if err := c.requireAdmin("os_compute_api:os-flavor-access"); err != nil {
		return err
	}
	f, err := s.lookupFlavor(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if f.IsPublic {
		return httpapi.Errorf(http.StatusNotFound, "FlavorAccessNotFound", "Access list not available for public flavors.")
	}
	return c.json(http.StatusOK, accessList(&f))
}

func (s *Service) flavorAction(c *call) error {
	var body map[string]json.RawMessage
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	if len(body) != 1 {
		return httpapi.BadRequest("Exactly one action is expected in the request body.")
	}
	var action string
	var raw json.RawMessage
	for action, raw = range body {
	}
	if action != "addTenantAccess" && action != "removeTenantAccess" {
		return httpapi.BadRequest("There is no such action: %s", action)
	}
	if err := c.requireAdmin("os_compute_api:os-flavor-access:" + map[string]string{"addTenantAccess": "add_tenant_access", "removeTenantAccess": "remove_tenant_access"}[action]); err != nil {
		return err
	}
	var arg struct {
		Tenant string `json:"tenant"`
	}
	if err := json.Unmarshal(raw, &arg); err != nil || arg.Tenant == "" || len(arg.Tenant) > 255 {
		return httpapi.BadRequest("Invalid input for field/attribute %s. 'tenant' is a required property", action)
	}
	id := c.r.PathValue("id")
	var f Flavor
	err := s.env.DB.Update(func(tx *store.Tx) error {
		cur, ok := s.flavors.Get(id)
		if !ok {
			return httpapi.NotFound("Flavor", id)
		}
		if cur.IsPublic {
			return httpapi.Conflict("Can not add access to a public flavor.")
		}
		has := slices.Contains(cur.Projects, arg.Tenant)
		switch {
		case action == "addTenantAccess" && has:
			return httpapi.Conflict("Flavor access already exists for flavor %s and project %s combination.", id, arg.Tenant)
		case action == "removeTenantAccess" && !has:
			return httpapi.NotFound("Flavor access", id+"/"+arg.Tenant)
		case action == "addTenantAccess":
			cur.Projects = append(cur.Projects, arg.Tenant)
		default:
			cur.Projects = slices.DeleteFunc(cur.Projects, func(p string) bool { return p == arg.Tenant })
		}
		f = cur
		return s.flavors.Put(tx, id, cur)
	})
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, accessList(&f))
}

var specKeyRe = regexp.MustCompile(`^[a-zA-Z0-9\-_:. /]{1,255}$`)

// specValue converts an extra spec value as Nova does: strings, numbers and booleans.
func specValue(key string, v any) (string, error) {
	switch t := v.(type) {
	case string:
		if len(t) > 255 {
			return "", httpapi.BadRequest("Invalid input for field/attribute %s. Value is longer than 255 characters", key)
		}
		return t, nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	case bool:
		if t {
			return "True", nil
		}
		return "False", nil
	default:
		return "", httpapi.BadRequest("Invalid input for field/attribute %s. Value: %v is not of type 'string', 'number', 'boolean'", key, v)
	}
}

func (s *Service) listExtraSpecs(c *call) error {
	f, err := s.lookupFlavor(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	es := f.ExtraSpecs
	if es == nil {
		es = map[string]string{}
	}
	return c.json(http.StatusOK, map[string]any{"extra_specs": es})
}

func (s *Service) getExtraSpec(c *call) error {
	f, err := s.lookupFlavor(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	key := c.r.PathValue("key")
	v, ok := f.ExtraSpecs[key]
	if !ok {
		return httpapi.Errorf(http.StatusNotFound, "FlavorExtraSpecsNotFound", "Flavor %s has no extra specs with key %s.", f.ID, key)
	}
	return c.json(http.StatusOK, map[string]string{key: v})
}

func (s *Service) setSpecs(c *call, id string, specs map[string]any) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range specs {
		if !specKeyRe.MatchString(k) {
			return nil, httpapi.BadRequest("Invalid input for field/attribute extra_specs. Key '%s' does not match '^[a-zA-Z0-9-_:. /]{1,255}$'", k)
		}
		sv, err := specValue(k, v)
		if err != nil {
			return nil, err
		}
		out[k] = sv
	}
	err := s.env.DB.Update(func(tx *store.Tx) error {
		_, err := s.flavors.Modify(tx, id, func(f *Flavor) error {
			if f.ExtraSpecs == nil {
				f.ExtraSpecs = map[string]string{}
			}
			for k, v := range out {
				f.ExtraSpecs[k] = v
			}
			return nil
		})
		if err != nil {
			return httpapi.NotFound("Flavor", id)
		}
		return nil
	})
	return out, err
}

func (s *Service) createExtraSpecs(c *call) error {
	if err := c.requireAdmin("os_compute_api:os-flavor-extra-specs:create"); err != nil {
		return err
	}
	var body struct {
		ExtraSpecs map[string]any `json:"extra_specs"`
	}
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	if body.ExtraSpecs == nil {
		return httpapi.BadRequest("Invalid input for field/attribute extra_specs. 'extra_specs' is a required property")
	}
	out, err := s.setSpecs(c, c.r.PathValue("id"), body.ExtraSpecs)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"extra_specs": out})
}

func (s *Service) updateExtraSpec(c *call) error {
	if err := c.requireAdmin("os_compute_api:os-flavor-extra-specs:update"); err != nil {
		return err
	}
	var body map[string]any
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	key := c.r.PathValue("key")
	if _, ok := body[key]; !ok || len(body) != 1 {
		return httpapi.BadRequest("Request body and URI mismatch")
	}
	out, err := s.setSpecs(c, c.r.PathValue("id"), body)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, out)
}

func (s *Service) deleteExtraSpec(c *call) error {
	if err := c.requireAdmin("os_compute_api:os-flavor-extra-specs:delete"); err != nil {
		return err
	}
	id, key := c.r.PathValue("id"), c.r.PathValue("key")
	err := s.env.DB.Update(func(tx *store.Tx) error {
		f, ok := s.flavors.Get(id)
		if !ok {
			return httpapi.NotFound("Flavor", id)
		}
		if _, ok := f.ExtraSpecs[key]; !ok {
			return httpapi.Errorf(http.StatusNotFound, "FlavorExtraSpecsNotFound", "Flavor %s has no extra specs with key %s.", id, key)
		}
		delete(f.ExtraSpecs, key)
		return s.flavors.Put(tx, id, f)
	})
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusOK)
	return nil
}

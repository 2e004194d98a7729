package compute

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// maxListLimit is Nova's osapi_max_limit: the largest page a listing returns.
const maxListLimit = 1000

// maxMultiCreate bounds the servers one request creates (min_count/max_count).
const maxMultiCreate = 1000

func (s *Service) serverRoutes(rt *httpapi.Router, h func(handler) httpapi.HandlerFunc) {
	rt.Handle("GET /v2.1/servers", "server.list", h(func(c *call) error { return s.listServers(c, false) }))
	rt.Handle("GET /v2.1/servers/detail", "server.list", h(func(c *call) error { return s.listServers(c, true) }))
	rt.Handle("POST /v2.1/servers", "server.create", h(s.createServer))
	rt.Handle("GET /v2.1/servers/{id}", "server.get", h(s.getServer))
	rt.Handle("PUT /v2.1/servers/{id}", "server.update", h(s.updateServer))
	rt.Handle("DELETE /v2.1/servers/{id}", "server.delete", h(s.deleteServer))
	rt.Handle("POST /v2.1/servers/{id}/action", "server.action", h(s.serverAction))
	s.serverSubRoutes(rt, h)
}

// createRequest is the body of POST /servers.
type createRequest struct {
	Server   *serverCreate  `json:"server"`
	Hints    map[string]any `json:"os:scheduler_hints"`
	HintsOld map[string]any `json:"OS-SCH-HNT:scheduler_hints"`
}

type serverCreate struct {
	Name           *string         `json:"name"`
	ImageRef       *string         `json:"imageRef"`
	FlavorRef      json.RawMessage `json:"flavorRef"`
	Networks       json.RawMessage `json:"networks"`
	SecurityGroups []struct {
		Name string `json:"name"`
	} `json:"security_groups"`
	UserData            *string           `json:"user_data"`
	Metadata            map[string]string `json:"metadata"`
	KeyName             *string           `json:"key_name"`
	AvailabilityZone    *string           `json:"availability_zone"`
	ConfigDrive         json.RawMessage   `json:"config_drive"`
	MinCount            json.RawMessage   `json:"min_count"`
	MaxCount            json.RawMessage   `json:"max_count"`
	ReturnReservationID json.RawMessage   `json:"return_reservation_id"`
	Tags                []string          `json:"tags"`
	Description         *string           `json:"description"`
	Hostname            *string           `json:"hostname"`
	AccessIPv4          *string           `json:"accessIPv4"`
	AccessIPv6          *string           `json:"accessIPv6"`
	AdminPass           *string           `json:"adminPass"`
	BDM                 []struct {
		SourceType      string          `json:"source_type"`
		UUID            string          `json:"uuid"`
		BootIndex       json.RawMessage `json:"boot_index"`
		DestinationType string          `json:"destination_type"`
	} `json:"block_device_mapping_v2"`
	DiskConfig string `json:"OS-DCF:diskConfig"`
}

// netRequest is one entry of "networks".
type netRequest struct {
	UUID    string `json:"uuid"`
	Port    string `json:"port"`
	FixedIP string `json:"fixed_ip"`
	Tag     string `json:"tag"`
}

var (
	metaKeyRe = regexp.MustCompile(`^[a-zA-Z0-9\-_:. ]{1,255}$`)
)

func lastSegment(ref string) string {
	if u, err := url.Parse(ref); err == nil && u.Path != "" && strings.Contains(ref, "/") {
		parts := strings.Split(strings.TrimRight(u.Path, "/"), "/")
		return parts[len(parts)-1]
	}
	return ref
}

// stringOrInt reads a JSON string or integer as a string (flavorRef may be either).
func stringOrInt(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if _, err := strconv.Atoi(string(n)); err == nil {
			return string(n), true
		}
	}
	return "", false
}

func parseBool(raw json.RawMessage, field string) (bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return false, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch strings.ToLower(s) {
		case "", "false", "f", "0", "no", "n", "off":
			return false, nil
		case "true", "t", "1", "yes", "y", "on":
			return true, nil
		}
	}
	return false, httpapi.BadRequest("Invalid input for field/attribute %s. Value: %s. %s is not of type 'boolean', 'string'", field, raw, raw)
}

// validateMetadata checks metadata as Nova's schema does, and its size against the quota.
func (s *Service) validateMetadata(project string, md map[string]string) error {
	for k, v := range md {
		if !metaKeyRe.MatchString(k) {
			return httpapi.BadRequest("Invalid input for field/attribute metadata. Value: %q. Additional properties are not allowed ('%s' was unexpected)", k, k)
		}
		if len(v) > 255 {
			return httpapi.BadRequest("Invalid input for field/attribute %s. Value: %s. is too long", k, v)
		}
	}
	if lim := s.limit(project, "metadata_items"); lim >= 0 && len(md) > lim {
		return httpapi.Forbidden("Quota exceeded for metadata_items: Requested %d, but already used 0 of %d metadata_items", len(md), lim)
	}
	return nil
}

func validateTags(tags []string) error {
	if len(tags) > 50 {
		return httpapi.BadRequest("Invalid input for field/attribute tags. Value: %v. is too long (at most 50 tags)", tags)
	}
	for _, t := range tags {
		if t == "" || len(t) > 60 || strings.ContainsAny(t, ",/") {
			return httpapi.BadRequest("Invalid input for field/attribute tags. Value: %q. does not match '^[^,/]*$' or is not 1 to 60 characters", t)
		}
	}
	return nil
}

// decodeUserData decodes base64 user data as Nova's check does: line breaks and blanks
// (base64 tools wrap lines) are allowed between the characters.
func decodeUserData(ud string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, ud)
	return base64.StdEncoding.DecodeString(clean)
}

func validName(field string, n *string) error {
	if n == nil {
		return httpapi.BadRequest("Invalid input for field/attribute server. '%s' is a required property", field)
	}
	if strings.TrimSpace(*n) == "" || len(*n) > 255 {
		return httpapi.BadRequest("Invalid input for field/attribute %s. Value: %s. must be 1 to 255 characters and not only spaces", field, *n)
	}
	return nil
}

// sanitizeHostname makes a hostname from a display name, as Nova does.
func sanitizeHostname(name, id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		case r == ' ' || r == '_':
			b.WriteByte('-')
		}
	}
	h := strings.Trim(b.String(), ".-")
	if len(h) > 63 {
		h = strings.Trim(h[:63], ".-")
	}
	if h == "" {
		h = "server-" + id
	}
	return h
}

func hostID(project, host string) string {
	if host == "" {
		return ""
	}
	sum := sha256.Sum224([]byte(project + host))
	return hex.EncodeToString(sum[:])
}

func randomString(n int) string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// createPlan is a validated server create request.
type createPlan struct {
	tmpl        Server
	userData    []byte
	networks    []netRequest
	auto        bool
	min, max    int
	group       *ServerGroup
	resvID      string
	returnResv  bool
	adminPass   string
	secGroups   []string
	explicitSGs bool
	reqID       string
}

func (s *Service) planCreate(c *call, body *createRequest) (*createPlan, error) {
	in := body.Server
	if in == nil {
		return nil, httpapi.BadRequest("Invalid input for field/attribute server. 'server' is a required property")
	}
	if err := validName("name", in.Name); err != nil {
		return nil, err
	}
	project := c.p.ProjectID
	now := time.Now().UTC()
	pl := &createPlan{min: 1, max: 1, reqID: c.reqID}
	t := &pl.tmpl
	t.Name = *in.Name
	t.Project = project
	t.UserID = c.p.UserID
	t.Status, t.VMState, t.TaskState, t.PowerState = StatusBuild, "building", "scheduling", PowerNoState
	t.Created, t.Updated = now, now

	// Flavor.
	if len(in.FlavorRef) == 0 {
		return nil, httpapi.BadRequest("Invalid input for field/attribute server. 'flavorRef' is a required property")
	}
	fref, ok := stringOrInt(in.FlavorRef)
	if !ok || fref == "" {
		return nil, httpapi.BadRequest("Invalid input for field/attribute flavorRef. Value: %s. is not of type 'string', 'integer'", in.FlavorRef)
	}
	fref = lastSegment(fref)
	flavor, ok := s.flavors.Get(fref)
	if !ok || !flavorVisible(c, &flavor) {
		return nil, httpapi.BadRequest("Flavor %s could not be found.", fref)
	}
	t.Flavor = flavor.snapshot()
	t.ResourceClass = flavor.ResourceClass()

	// Image: imageRef, or a bootable image block device mapping.
	imageID := ""
	if in.ImageRef != nil {
		imageID = lastSegment(*in.ImageRef)
	}
	if imageID == "" {
		for _, b := range in.BDM {
			if b.SourceType == "image" && (len(b.BootIndex) == 0 || string(b.BootIndex) == "0" || string(b.BootIndex) == `"0"`) {
				imageID = b.UUID
			}
		}
		if imageID == "" && len(in.BDM) > 0 {
			return nil, httpapi.BadRequest("Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.")
		}
		if imageID == "" {
			return nil, httpapi.BadRequest("Invalid imageRef provided.")
		}
	}
	if !httpapi.IsUUID(imageID) {
		return nil, httpapi.BadRequest("Invalid imageRef provided.")
	}
	if s.images == nil {
		return nil, httpapi.BadRequest("Can not find requested image")
	}
	img, ok := s.images.Image(project, imageID)
	if !ok {
		return nil, httpapi.BadRequest("Can not find requested image")
	}
	if img.Status != "" && img.Status != "active" {
		return nil, httpapi.BadRequest("Image %s is not active.", imageID)
	}
	if flavor.Disk > 0 && img.MinDisk > flavor.Disk {
		return nil, httpapi.BadRequest("Flavor's disk is too small for requested image. Flavor disk is %d bytes, minimum disk required is %d bytes.", flavor.Disk<<30, img.MinDisk<<30)
	}
	if img.MinRAM > flavor.RAM {
		return nil, httpapi.BadRequest("Flavor's memory is too small for requested image.")
	}
	t.Image = img

	// Key pair.
	if in.KeyName != nil && *in.KeyName != "" {
		kp, ok := s.keypairs.Get(keypairKey(c.p.UserID, *in.KeyName))
		if !ok {
			return nil, httpapi.BadRequest("Invalid key_name provided.")
		}
		t.KeyName, t.PublicKey = kp.Name, kp.PublicKey
	}

	// Availability zone: "zone", "zone:host" or "zone:host:node".
	t.AZ = s.cfg.AvailabilityZones[0]
	if in.AvailabilityZone != nil && *in.AvailabilityZone != "" {
		az, _, _ := strings.Cut(*in.AvailabilityZone, ":")
		if az != "" {
			if !slices.Contains(s.cfg.AvailabilityZones, az) {
				return nil, httpapi.BadRequest("The requested availability zone is not available")
			}
			t.AZ, t.RequestedAZ = az, az
		}
	}

	// User data.
	if in.UserData != nil {
		ud := *in.UserData
		if len(ud) > 65535 {
			return nil, httpapi.BadRequest("Invalid input for field/attribute user_data. Value: %.40s... is too long (at most 65535 characters)", ud)
		}
		data, err := decodeUserData(ud)
		if err != nil {
			return nil, httpapi.BadRequest("Invalid input for field/attribute user_data. Value: %.40s. '%.40s' is not a 'base64'", ud, ud)
		}
		t.UserData, pl.userData = ud, data // kept as given, line breaks and all, as Nova does
	}

	// Metadata, tags, description, hostname, access IPs, config drive.
	if err := s.validateMetadata(project, in.Metadata); err != nil {
		return nil, err
	}
	t.Metadata = in.Metadata
	if in.Tags != nil {
		if !c.mv.AtLeast(52) {
			return nil, httpapi.BadRequest("Invalid input for field/attribute server. Additional properties are not allowed ('tags' was unexpected)")
		}
		if err := validateTags(in.Tags); err != nil {
			return nil, err
		}
		t.Tags = slices.Compact(slices.Sorted(slices.Values(in.Tags)))
	}
	if in.Description != nil {
		if !c.mv.AtLeast(19) {
			return nil, httpapi.BadRequest("Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)")
		}
		if len(*in.Description) > 255 {
			return nil, httpapi.BadRequest("Invalid input for field/attribute description. is too long (at most 255 characters)")
		}
		d := *in.Description
		t.Description = &d
	}
	if in.Hostname != nil {
		if !c.mv.AtLeast(90) {
			return nil, httpapi.BadRequest("Invalid input for field/attribute server. Additional properties are not allowed ('hostname' was unexpected)")
		}
		if *in.Hostname == "" || len(*in.Hostname) > 255 {
			return nil, httpapi.BadRequest("Invalid input for field/attribute hostname. must be 1 to 255 characters")
		}
		t.Hostname = *in.Hostname
	}
	if in.AccessIPv4 != nil && *in.AccessIPv4 != "" {
		if ip := net.ParseIP(*in.AccessIPv4); ip == nil || ip.To4() == nil {
			return nil, httpapi.BadRequest("Invalid input for field/attribute accessIPv4. Value: %s. '%s' is not a 'ipv4'", *in.AccessIPv4, *in.AccessIPv4)
		}
		t.AccessIPv4 = *in.AccessIPv4
	}
	if in.AccessIPv6 != nil && *in.AccessIPv6 != "" {
		if ip := net.ParseIP(*in.AccessIPv6); ip == nil || ip.To4() != nil {
			return nil, httpapi.BadRequest("Invalid input for field/attribute accessIPv6. Value: %s. '%s' is not a 'ipv6'", *in.AccessIPv6, *in.AccessIPv6)
		}
		t.AccessIPv6 = *in.AccessIPv6
	}
	var err error
	if t.ConfigDrive, err = parseBool(in.ConfigDrive, "config_drive"); err != nil {
		return nil, err
	}
	if pl.returnResv, err = parseBool(in.ReturnReservationID, "return_reservation_id"); err != nil {
		return nil, err
	}
	if len(in.MinCount) > 0 {
		if pl.min, err = intField(in.MinCount, "min_count", 1); err != nil {
			return nil, err
		}
	}
	if len(in.MaxCount) > 0 {
		if pl.max, err = intField(in.MaxCount, "max_count", 1); err != nil {
			return nil, err
		}
	} else {
		pl.max = pl.min
	}
	if pl.min > pl.max {
		return nil, httpapi.BadRequest("min_count must be <= max_count")
	}
	pl.adminPass = randomString(12)
	if in.AdminPass != nil && *in.AdminPass != "" {
		pl.adminPass = *in.AdminPass
	}

	// Networks.
	if err := pl.parseNetworks(c, in.Networks); err != nil {
		return nil, err
	}
	for _, sg := range in.SecurityGroups {
		if sg.Name == "" {
			return nil, httpapi.BadRequest("Invalid input for field/attribute security_groups. 'name' is a required property")
		}
		pl.secGroups = append(pl.secGroups, sg.Name)
	}
	pl.explicitSGs = len(pl.secGroups) > 0
	if !pl.explicitSGs {
		pl.secGroups = []string{"default"}
	}

	// Scheduler hints: the server group.
	hints := body.Hints
	if hints == nil {
		hints = body.HintsOld
	}
	if g, ok := hints["group"]; ok {
		gid, _ := g.(string)
		if list, ok := g.([]any); ok && len(list) == 1 {
			gid, _ = list[0].(string)
		}
		if !httpapi.IsUUID(gid) {
			return nil, httpapi.BadRequest("Invalid input for field/attribute group. Value: %v. '%v' is not a 'uuid'", g, g)
		}
		grp, ok := s.groups.Get(gid)
		if !ok || !c.p.Sees(grp.Project) {
			return nil, httpapi.BadRequest("Invalid server group: Server group %s could not be found.", gid)
		}
		pl.group = &grp
		t.Group = grp.ID
	}
	pl.resvID = "r-" + randomString(8)
	t.ReservationID = pl.resvID
	return pl, nil
}

func (pl *createPlan) parseNetworks(c *call, raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		if c.mv.AtLeast(37) {
			return httpapi.BadRequest("Invalid input for field/attribute server. 'networks' is a required property")
		}
		pl.auto = true
		return nil
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		if !c.mv.AtLeast(37) || (str != "auto" && str != "none") {
			return httpapi.BadRequest("Invalid input for field/attribute networks. Value: %s. '%s' is not of type 'array'", str, str)
		}
		pl.auto = str == "auto"
		return nil
	}
	var nets []netRequest
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&nets); err != nil {
		return httpapi.BadRequest("Invalid input for field/attribute networks. Value: %s. %v", raw, err)
	}
	for _, n := range nets {
		switch {
		case n.Port != "":
			if !httpapi.IsUUID(n.Port) {
				return httpapi.BadRequest("Invalid input for field/attribute port. Value: %s. '%s' is not a 'uuid'", n.Port, n.Port)
			}
		case n.UUID != "":
			if !httpapi.IsUUID(n.UUID) {
				return httpapi.BadRequest("Bad networks format: network uuid is not in proper format (%s)", n.UUID)
			}
		default:
			return httpapi.BadRequest("Bad network format: missing 'uuid'")
		}
		if n.FixedIP != "" && net.ParseIP(n.FixedIP) == nil {
			return httpapi.BadRequest("Invalid fixed IP address (%s)", n.FixedIP)
		}
		if n.Tag != "" && !c.mv.AtLeast(32) {
			return httpapi.BadRequest("Invalid input for field/attribute networks. Additional properties are not allowed ('tag' was unexpected)")
		}
	}
	pl.networks = nets
	return nil
}

func (s *Service) limit(project, resource string) int {
	return s.limiter(project)(resource)
}

// limiter returns the limits of a project (its quota set, overridden by injected faults),
// reading the quota set once.
func (s *Service) limiter(project string) func(resource string) int {
	q := s.quotaOf(project)
	return func(resource string) int {
		if s.env.Quotas != nil {
			if l, ok := s.env.Quotas.Limit(project, resource); ok {
				return l
			}
		}
		return q.get(resource)
	}
}

// headroom is how many servers of the flavor the project may still create, and the first
// resource that limits it.
func (s *Service) headroom(project string, f FlavorSnapshot) (int, string, int, int) {
	u := s.usageFor(project)
	limit := s.limiter(project)
	best, which, used, lim := 1<<30, "", 0, 0
	check := func(res string, have, per int) {
		l := limit(res)
		if l < 0 || per == 0 {
			return
		}
		n := (l - have) / per
		if l-have < 0 {
			n = 0
		}
		if n < best {
			best, which, used, lim = n, res, have, l
		}
	}
	check("instances", u.Instances, 1)
	check("cores", u.Cores, f.quotaCores())
	check("ram", u.RAM, f.quotaRAM())
	return best, which, used, lim
}

func (s *Service) createServer(c *call) error {
	var body createRequest
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	pl, err := s.planCreate(c, &body)
	if err != nil {
		return err
	}
	if pl.max > 1 {
		for _, n := range pl.networks {
			if n.Port != "" {
				return httpapi.BadRequest("Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.")
			}
		}
	}
	var created []Server
	counted := false
	f := pl.tmpl.Flavor
	err = s.env.DB.Update(func(tx *store.Tx) error {
		created = created[:0]
		n := pl.max
		room, which, used, lim := s.headroom(pl.tmpl.Project, f)
		if room < pl.min {
			req := pl.min
			switch which {
			case "cores":
				req *= f.quotaCores()
			case "ram":
				req *= f.quotaRAM()
			}
			return httpapi.Forbidden("Quota exceeded for %s: Requested %d, but already used %d of %d %s", which, req, used, lim, which)
		}
		// Unlimited quotas still stop at maxMultiCreate servers per request.
		if pl.min > maxMultiCreate {
			return httpapi.Forbidden("Quota exceeded for instances: Requested %d, but at most %d can be created by one request", pl.min, maxMultiCreate)
		}
		n = min(n, room, maxMultiCreate)
		var group ServerGroup
		if pl.group != nil {
			g, ok := s.groups.Get(pl.group.ID)
			if !ok {
				return httpapi.BadRequest("Invalid server group: Server group %s could not be found.", pl.group.ID)
			}
			group = g
			if l := s.limit(pl.tmpl.Project, "server_group_members"); l >= 0 && len(group.Members)+n > l {
				return httpapi.Forbidden("Quota exceeded, too many servers in group")
			}
		}
		for i := 0; i < n; i++ {
			srv, err := s.createOne(tx, pl, i, n, &group)
			if err != nil {
				return err
			}
			created = append(created, srv)
		}
		if pl.group != nil {
			if err := s.groups.Put(tx, group.ID, group); err != nil {
				return err
			}
		}
		s.addUsage(pl.tmpl.Project, n, n*f.quotaCores(), n*f.quotaRAM())
		counted = true
		return nil
	})
	if err != nil {
		if counted {
			s.addUsage(pl.tmpl.Project, -len(created), -len(created)*f.quotaCores(), -len(created)*f.quotaRAM())
		}
		return err
	}
	if pl.returnResv {
		return c.json(http.StatusAccepted, map[string]string{"reservation_id": pl.resvID})
	}
	first := created[0]
	sgs := make([]map[string]string, 0, len(pl.secGroups))
	for _, g := range pl.secGroups {
		sgs = append(sgs, map[string]string{"name": g})
	}
	c.w.Header().Set("Location", c.base+"/v2.1/servers/"+first.ID)
	return c.json(http.StatusAccepted, map[string]any{"server": map[string]any{
		"id": first.ID, "links": c.links("servers/" + first.ID), "OS-DCF:diskConfig": "MANUAL",
		"security_groups": sgs, "adminPass": pl.adminPass,
	}})
}

// createOne stores one server of a create request, placing it, claiming its node or host and
// attaching its ports, all inside tx.
func (s *Service) createOne(tx *store.Tx, pl *createPlan, i, n int, group *ServerGroup) (Server, error) {
	srv := pl.tmpl
	srv.ID = uuid.NewString()
	srv.LaunchIndex = i
	if n > 1 {
		srv.Name = fmt.Sprintf("%s-%d", pl.tmpl.Name, i+1)
	}
	if srv.Hostname == "" {
		srv.Hostname = sanitizeHostname(srv.Name, srv.ID)
	} else if n > 1 {
		srv.Hostname = fmt.Sprintf("%s-%d", pl.tmpl.Hostname, i+1)
	}
	srv.Metadata = cloneMap(pl.tmpl.Metadata)
	srv.Tags = slices.Clone(pl.tmpl.Tags)
	if pl.explicitSGs {
		srv.SecurityGroups = pl.secGroups
	}

	// Placement: a bare-metal node through Ironic, or one of the simulated hypervisors.
	if srv.ResourceClass != "" {
		srv.Host = "ironic-compute"
		if s.metal == nil {
			srv.ScheduleError = noValidHost
		} else if node, err := s.metal.Claim(tx, srv.ResourceClass, srv.ID, pl.userData, claimMeta(&srv)); err != nil {
			s.env.Log.Info("no bare-metal node for server", "server", srv.ID, "resource_class", srv.ResourceClass, "err", err)
			srv.ScheduleError = noValidHost
			srv.Host = ""
		} else {
			srv.HypervisorHostname = node.ID
		}
	} else {
		var g *ServerGroup
		if group.ID != "" {
			g = group
		}
		host, err := s.place(g, srv.AZ)
		if err != nil {
			srv.ScheduleError = err.Error()
		} else {
			srv.Host, srv.HypervisorHostname = host, host
		}
	}
	srv.HostID = hostID(srv.Project, srv.Host)
	if group.ID != "" {
		group.Members = append(group.Members, srv.ID)
	}

	// Ports.
	if srv.ScheduleError == "" {
		ports, err := s.attachPorts(tx, pl, &srv)
		if err != nil {
			return srv, err
		}
		srv.Ports = ports
	}
	srv.Actions = []InstanceAction{{Action: "create", RequestID: pl.reqID, UserID: srv.UserID, Project: srv.Project, Start: srv.Created}}
	if err := s.servers.Put(tx, srv.ID, srv); err != nil {
		return srv, err
	}
	if _, err := s.env.Tasks.Enqueue(tx, TaskServerBuild, srv.ID, srv.Project, s.env.Timing.ServerBuild, nil); err != nil {
		return srv, err
	}
	emit(tx, "server", srv.ID, srv.Project, "created", StatusBuild)
	tx.AfterCommit(func() { s.indexName(srv.Name, srv.ID, true) })
	return srv, nil
}

// claimMeta is what Ironic gets with a claim: the server's metadata and the instance_info
// Nova's Ironic driver sets (image_source, display_name, root_gb, project_id).
func claimMeta(srv *Server) map[string]string {
	m := cloneMap(srv.Metadata)
	if m == nil {
		m = map[string]string{}
	}
	m["image_source"] = srv.Image.ID
	if ni := srv.Image.Properties["node_image"]; ni != "" {
		m["node_image"] = ni // the docker image a docker-backed bare-metal node boots
	}
	m["display_name"] = srv.Name
	m["root_gb"] = strconv.Itoa(srv.Flavor.Disk)
	m["project_id"] = srv.Project
	return m
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (s *Service) attachPorts(tx *store.Tx, pl *createPlan, srv *Server) ([]services.PortInfo, error) {
	reqs := pl.networks
	if pl.auto {
		if an, ok := s.ports.(AutoNetworker); ok && s.ports != nil {
			if id, ok := an.AutoNetwork(srv.Project); ok {
				reqs = []netRequest{{UUID: id}}
			}
		}
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	if s.ports == nil {
		return nil, httpapi.BadRequest("Network %s could not be found.", reqs[0].UUID)
	}
	var out []services.PortInfo
	for _, n := range reqs {
		req := services.PortRequest{
			Project: srv.Project, NetworkID: n.UUID, FixedIP: n.FixedIP, PortID: n.Port,
			DeviceID: srv.ID, DeviceOwner: "compute:" + srv.AZ,
		}
		if n.Port == "" && pl.explicitSGs {
			req.SecurityGroups = pl.secGroups
		}
		p, err := s.ports.AttachPort(tx, req)
		if err != nil {
			// Nova answers a missing network, port or security group with a 400.
			if e := httpapi.AsError(err); e.Status == http.StatusNotFound {
				return nil, httpapi.BadRequest("%s", e.Message)
			}
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// lookupServer returns a server the caller sees, or Nova's 404.
func (s *Service) lookupServer(c *call, id string) (Server, error) {
	srv, ok := s.servers.Get(id)
	if !ok || !c.p.Sees(srv.Project) {
		return srv, httpapi.NotFound("Instance", id)
	}
	return srv, nil
}

func (s *Service) getServer(c *call) error {
	srv, err := s.lookupServer(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"server": s.serverBody(c, &srv)})
}

func timeStr(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func addressesOf(ports []services.PortInfo) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, p := range ports {
		name := p.NetworkName
		if name == "" {
			name = p.NetworkID
		}
		for _, ip := range p.FixedIPs {
			v := 4
			if parsed := net.ParseIP(ip.IPAddress); parsed != nil && parsed.To4() == nil {
				v = 6
			}
			out[name] = append(out[name], map[string]any{
				"version": v, "addr": ip.IPAddress, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": p.MACAddress,
			})
		}
		if _, ok := out[name]; !ok {
			out[name] = []map[string]any{}
		}
	}
	return out
}

// scan returns the servers for which match is true, without copying them. The pointers are
// the store's own decoded rows: store.Table replaces a row on every Put and never changes one
// in place, so they stay valid and unchanged; callers must treat them as read-only.
func (s *Service) scan(match func(*Server) bool) []*Server {
	var out []*Server
	s.servers.Count(func(_ string, v *Server) bool {
		if match(v) {
			out = append(out, v)
		}
		return false
	})
	return out
}

func parseTimeParam(name, v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, httpapi.BadRequest("Invalid input for query parameters %s. Value: %s. '%s' is not a 'date-time'", name, v, v)
}

func boolParam(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "true", "t", "1", "yes", "y", "on":
		return true, nil
	case "false", "f", "0", "no", "n", "off":
		return false, nil
	}
	return false, httpapi.BadRequest("Invalid input for query parameters %s. Value: %s. Unrecognized value '%s', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'", name, v, v)
}

// textMatcher compiles Nova's regex filters (name, ip); a pattern without regex syntax is a
// plain substring search, as a regex of it would be.
func textMatcher(name, pattern string) (func(string) bool, error) {
	literal := func(p string) bool { return regexp.QuoteMeta(p) == p }
	core, anchoredStart := strings.CutPrefix(pattern, "^")
	core, anchoredEnd := strings.CutSuffix(core, "$")
	if literal(core) {
		switch {
		case anchoredStart && anchoredEnd:
			return func(s string) bool { return s == core }, nil
		case anchoredStart:
			return func(s string) bool { return strings.HasPrefix(s, core) }, nil
		case anchoredEnd:
			return func(s string) bool { return strings.HasSuffix(s, core) }, nil
		default:
			return func(s string) bool { return strings.Contains(s, core) }, nil
		}
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, httpapi.BadRequest("Invalid input for query parameters %s. Value: %s. is not a valid regular expression", name, pattern)
	}
	return re.MatchString, nil
}

func (s *Service) listServers(c *call, detail bool) error {
	q := c.r.URL.Query()
	var all bool
	if _, ok := q["all_tenants"]; ok {
		v, err := boolParam("all_tenants", q.Get("all_tenants"))
		if err != nil {
			return err
		}
		all = v
	}
	if all && !c.p.IsAdmin() {
		which := "index"
		if detail {
			which = "detail"
		}
		return httpapi.Forbidden("Policy doesn't allow os_compute_api:servers:%s:get_all_tenants to be performed.", which)
	}
	project := c.p.ProjectID
	if all {
		project = q.Get("tenant_id")
		if project == "" {
			project = q.Get("project_id")
		}
	}
	var preds []func(*Server) bool
	exactName, byName := "", false
	if v := q.Get("name"); v != "" {
		m, err := textMatcher("name", v)
		if err != nil {
			return err
		}
		preds = append(preds, func(s *Server) bool { return m(s.Name) })
		if core, ok := strings.CutPrefix(v, "^"); ok {
			if core, ok = strings.CutSuffix(core, "$"); ok && regexp.QuoteMeta(core) == core {
				exactName, byName = core, true
			}
		}
	}
	if v := q.Get("ip"); v != "" {
		m, err := textMatcher("ip", v)
		if err != nil {
			return err
		}
		preds = append(preds, func(s *Server) bool {
			for _, p := range s.Ports {
				for _, ip := range p.FixedIPs {
					if m(ip.IPAddress) {
						return true
					}
				}
			}
			return false
		})
	}
	if vs, ok := q["status"]; ok {
		want := map[string]bool{}
		for _, v := range vs {
			want[strings.ToUpper(v)] = true
		}
		preds = append(preds, func(s *Server) bool { return want[s.Status] })
	}
	for param, get := range map[string]func(*Server) string{
		"image":             func(s *Server) string { return s.Image.ID },
		"flavor":            func(s *Server) string { return s.Flavor.ID },
		"availability_zone": func(s *Server) string { return s.AZ },
		"key_name":          func(s *Server) string { return s.KeyName },
		"user_id":           func(s *Server) string { return s.UserID },
		"reservation_id":    func(s *Server) string { return s.ReservationID },
	} {
		if v := q.Get(param); v != "" {
			if param == "image" || param == "flavor" {
				v = lastSegment(v)
			}
			preds = append(preds, func(s *Server) bool { return get(s) == v })
		}
	}
	if c.p.IsAdmin() {
		if v := q.Get("host"); v != "" {
			preds = append(preds, func(s *Server) bool { return s.Host == v })
		}
		if v := q.Get("node"); v != "" {
			preds = append(preds, func(s *Server) bool { return s.HypervisorHostname == v })
		}
	}
	if v := q.Get("changes-since"); v != "" {
		t, err := parseTimeParam("changes-since", v)
		if err != nil {
			return err
		}
		preds = append(preds, func(s *Server) bool { return !s.Updated.Before(t) })
	}
	if v := q.Get("changes-before"); v != "" {
		t, err := parseTimeParam("changes-before", v)
		if err != nil {
			return err
		}
		preds = append(preds, func(s *Server) bool { return !s.Updated.After(t) })
	}
	if v := q.Get("deleted"); v != "" {
		d, err := boolParam("deleted", v)
		if err != nil {
			return err
		}
		if d {
			preds = append(preds, func(*Server) bool { return false })
		}
	}
	if q.Has("tags") || q.Has("tags-any") || q.Has("not-tags") || q.Has("not-tags-any") {
		f := httpapi.NewFilter(c.r)
		preds = append(preds, func(s *Server) bool { return f.Tags(s.Tags) })
	}
	limit := maxListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return httpapi.BadRequest("Invalid input for query parameters limit. Value: %s. '%s' is not a non-negative integer", v, v)
		}
		limit = min(n, maxListLimit)
	}
	// The page is the first limit servers after the marker, newest first (Nova's default
	// order: created_at desc, id desc).
	type hit struct {
		ts int64
		s  *Server
	}
	before := func(a, b hit) bool { // a comes before b in the listing
		if a.ts != b.ts {
			return a.ts > b.ts
		}
		return a.s.ID > b.s.ID
	}
	var after *hit
	if m := q.Get("marker"); m != "" {
		ms, ok := s.servers.Get(m)
		if !ok || !c.p.Sees(ms.Project) {
			return httpapi.BadRequest("marker [%s] not found", m)
		}
		after = &hit{ts: ms.Created.UnixNano(), s: &ms}
	}
	var hits []hit
	consider := func(v *Server) {
		if project != "" && v.Project != project {
			return
		}
		for _, p := range preds {
			if !p(v) {
				return
			}
		}
		h := hit{ts: v.Created.UnixNano(), s: v}
		if after == nil || before(*after, h) {
			hits = append(hits, h)
		}
	}
	if byName {
		// An exact name: only the servers of that name, from the index.
		for _, id := range s.idsNamed(exactName) {
			if v, ok := s.servers.Get(id); ok {
				consider(&v)
			}
		}
	} else {
		// As in scan, the pointers kept are the store's immutable decoded rows.
		s.servers.Count(func(_ string, v *Server) bool {
			consider(v)
			return false
		})
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if before(a, b) {
			return -1
		}
		if before(b, a) {
			return 1
		}
		return 0
	})
	next := ""
	if len(hits) > limit {
		hits = hits[:limit]
		if limit > 0 {
			next = hits[limit-1].s.ID
		}
	}
	out := make([]any, 0, len(hits))
	for _, h := range hits {
		v := h.s
		if detail {
			out = append(out, s.serverBody(c, v))
		} else {
			out = append(out, map[string]any{"id": v.ID, "name": v.Name, "links": c.links("servers/" + v.ID)})
		}
	}
	resp := map[string]any{"servers": out}
	if next != "" {
		resp["servers_links"] = httpapi.Links(c.r, next)
	}
	return c.json(http.StatusOK, resp)
}

func (s *Service) updateServer(c *call) error {
	var body struct {
		Server *struct {
			Name        *string `json:"name"`
			AccessIPv4  *string `json:"accessIPv4"`
			AccessIPv6  *string `json:"accessIPv6"`
			Description *string `json:"description"`
			Hostname    *string `json:"hostname"`
			DiskConfig  *string `json:"OS-DCF:diskConfig"`
		} `json:"server"`
	}
	if err := httpapi.DecodeStrict(c.r, &body); err != nil {
		return err
	}
	in := body.Server
	if in == nil {
		return httpapi.BadRequest("Invalid input for field/attribute server. 'server' is a required property")
	}
	if in.Name != nil {
		if err := validName("name", in.Name); err != nil {
			return err
		}
	}
	if in.Description != nil && (!c.mv.AtLeast(19) || len(*in.Description) > 255) {
		return httpapi.BadRequest("Invalid input for field/attribute description.")
	}
	if in.Hostname != nil && (!c.mv.AtLeast(90) || *in.Hostname == "" || len(*in.Hostname) > 255) {
		return httpapi.BadRequest("Invalid input for field/attribute hostname.")
	}
	for _, ip := range []*string{in.AccessIPv4, in.AccessIPv6} {
		if ip != nil && *ip != "" && net.ParseIP(*ip) == nil {
			return httpapi.BadRequest("Invalid input for field/attribute accessIP. Value: %s. is not an IP address", *ip)
		}
	}
	id := c.r.PathValue("id")
	if _, err := s.lookupServer(c, id); err != nil {
		return err
	}
	var srv Server
	err := s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		srv, err = s.servers.Modify(tx, id, func(v *Server) error {
			if v.Locked && !c.p.IsAdmin() {
				return httpapi.Conflict("Instance %s is locked", id)
			}
			if in.Name != nil && *in.Name != v.Name {
				old, name := v.Name, *in.Name
				tx.AfterCommit(func() { s.indexName(old, id, false); s.indexName(name, id, true) })
				v.Name = name
			}
			if in.AccessIPv4 != nil {
				v.AccessIPv4 = *in.AccessIPv4
			}
			if in.AccessIPv6 != nil {
				v.AccessIPv6 = *in.AccessIPv6
			}
			if in.Description != nil {
				d := *in.Description
				v.Description = &d
			}
			if in.Hostname != nil {
				v.Hostname = *in.Hostname
			}
			v.Updated = time.Now().UTC()
			return nil
		})
		if err != nil {
			return err
		}
		emit(tx, "server", id, srv.Project, "updated", "")
		return nil
	})
	if err != nil {
		return httpapi.AsError(err)
	}
	return c.json(http.StatusOK, map[string]any{"server": s.serverBody(c, &srv)})
}

func (s *Service) deleteServer(c *call) error {
	if err := s.startDelete(c, c.r.PathValue("id")); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// startDelete marks a server as being deleted and enqueues its deletion.
func (s *Service) startDelete(c *call, id string) error {
	if _, err := s.lookupServer(c, id); err != nil {
		return err
	}
	return s.env.DB.Update(func(tx *store.Tx) error {
		srv, ok := s.servers.Get(id)
		if !ok {
			return httpapi.NotFound("Instance", id)
		}
		if srv.Locked && !c.p.IsAdmin() {
			return httpapi.Conflict("Instance %s is locked", id)
		}
		if srv.TaskState == "deleting" {
			return nil
		}
		srv.TaskState = "deleting"
		srv.Updated = time.Now().UTC()
		srv.record(c, "delete")
		if err := s.servers.Put(tx, id, srv); err != nil {
			return err
		}
		if err := s.env.Tasks.Cancel(tx, TaskServerBuild, id); err != nil {
			return err
		}
		if err := s.env.Tasks.Cancel(tx, TaskServerAction, id); err != nil {
			return err
		}
		if _, err := s.env.Tasks.Enqueue(tx, TaskServerDelete, id, srv.Project, s.env.Timing.ServerDelete, nil); err != nil {
			return err
		}
		emit(tx, "server", id, srv.Project, "status", "deleting")
		return nil
	})
}

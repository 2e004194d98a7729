package image

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

func schemaError(format string, args ...any) error {
	return httpapi.BadRequest("Provided object does not match schema 'image': %s", fmt.Sprintf(format, args...))
}

func forbidden(format string, args ...any) error {
	return httpapi.Errorf(http.StatusForbidden, "Forbidden", format, args...)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// repr renders a decoded JSON value as Python would in Glance's schema messages.
func repr(v any) string {
	switch t := v.(type) {
	case nil:
		return "None"
	case string:
		return "'" + t + "'"
	case bool:
		if t {
			return "True"
		}
		return "False"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// checkName refuses attribute names no one may set: read-only and reserved ones.
func checkName(key string, creating bool) error {
	if key == "id" && !creating {
		return forbidden("Attribute 'id' is read-only.")
	}
	if readOnly[key] {
		return forbidden("Attribute '%s' is read-only.", key)
	}
	if reserved[key] || strings.HasPrefix(key, "os_glance") {
		return forbidden("Attribute '%s' is reserved.", key)
	}
	return nil
}

// setAttr sets one attribute (core or extra property) of im from a JSON value, with Glance's
// schema checks and policies. creating is true for POST /v2/images.
func setAttr(p *httpapi.Principal, im *Image, key string, v any, creating bool) error {
	if key == "" {
		return httpapi.BadRequest("Invalid attribute name: an empty name is not allowed.")
	}
	if err := checkName(key, creating); err != nil {
		return err
	}
	str := func() (string, error) {
		s, ok := v.(string)
		if !ok {
			return "", schemaError("%s is not of type 'string'", repr(v))
		}
		return s, nil
	}
	enum := func(allowed []string, nullable bool) (string, error) {
		if v == nil && nullable {
			return "", nil
		}
		s, ok := v.(string)
		if !ok || !slices.Contains(allowed, s) {
			return "", schemaError("%s is not one of %s", repr(v), pyList(allowed))
		}
		return s, nil
	}
	switch key {
	case "id":
		s, err := str()
		if err != nil {
			return err
		}
		if !httpapi.IsUUID(s) || len(s) != 36 {
			return schemaError("'%s' does not match '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'", s)
		}
		im.ID = strings.ToLower(s)
	case "name":
		if v == nil {
			im.Name = nil
			return nil
		}
		s, err := str()
		if err != nil {
			return err
		}
		if len(s) > 255 {
			return schemaError("'%s' is too long", s)
		}
		im.Name = &s
	case "visibility":
		s, err := enum(visibilities, false)
		if err != nil {
			return err
		}
		if s == VisibilityPublic && !p.IsAdmin() && im.Visibility != VisibilityPublic {
			return forbidden("You are not authorized to complete publicize_image action.")
		}
		im.Visibility = s
	case "protected", "os_hidden":
		b, ok := v.(bool)
		if !ok {
			return schemaError("%s is not of type 'boolean'", repr(v))
		}
		if key == "protected" {
			im.Protected = b
		} else {
			im.Hidden = b
		}
	case "owner":
		var s string
		if v != nil {
			var err error
			if s, err = str(); err != nil {
				return err
			}
		}
		if len(s) > 255 {
			return schemaError("'%s' is too long", s)
		}
		if s != im.Owner && !p.IsAdmin() {
			if creating {
				return forbidden("You are not permitted to create images owned by '%s'.", s)
			}
			return forbidden("You are not permitted to modify 'owner' on this image.")
		}
		im.Owner = s
	case "container_format", "disk_format":
		allowed := containerFormats
		if key == "disk_format" {
			allowed = diskFormats
		}
		s, err := enum(allowed, true)
		if err != nil {
			return err
		}
		if !creating && im.Status != StatusQueued {
			return forbidden("Attribute %s can be only replaced for a queued image.", key)
		}
		if key == "container_format" {
			im.ContainerFormat = s
		} else {
			im.DiskFormat = s
		}
	case "min_disk", "min_ram":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			return schemaError("%s is not of type 'integer'", repr(v))
		}
		if f < 0 || f > math.MaxInt32 {
			return httpapi.BadRequest("Invalid value for %s: %v. It must be an integer between 0 and %d.", key, f, math.MaxInt32)
		}
		if key == "min_disk" {
			im.MinDisk = int(f)
		} else {
			im.MinRAM = int(f)
		}
	case "tags":
		list, ok := v.([]any)
		if !ok {
			return schemaError("%s is not of type 'array'", repr(v))
		}
		tags := []string{}
		for _, t := range list {
			s, ok := t.(string)
			if !ok {
				return schemaError("%s is not of type 'string'", repr(t))
			}
			if err := checkTag(s); err != nil {
				return err
			}
			if !slices.Contains(tags, s) {
				tags = append(tags, s)
			}
		}
		if len(tags) > maxTags {
			return tooManyTags()
		}
		im.Tags = tags
	default:
		if len(key) > 255 {
			return schemaError("'%s' is too long", key)
		}
		s, err := str()
		if err != nil {
			return err
		}
		if len(s) > 65535 {
			return schemaError("%s is too long", repr(s))
		}
		if im.Properties == nil {
			im.Properties = map[string]string{}
		}
		if _, had := im.Properties[key]; !had && len(im.Properties) >= maxProperties {
			return httpapi.Errorf(http.StatusRequestEntityTooLarge, "OverLimit",
				"Attempted to exceed quota for 'image_property_quota': the maximum number of image properties is %d.", maxProperties)
		}
		im.Properties[key] = s
	}
	return nil
}

func checkTag(s string) error {
	if len(s) > 255 {
		return schemaError("'%s' is too long", s)
	}
	if s == "" {
		return httpapi.BadRequest("Invalid tag: a tag must not be empty.")
	}
	return nil
}

func tooManyTags() error {
	return httpapi.Errorf(http.StatusRequestEntityTooLarge, "OverLimit",
		"Attempted to exceed quota for 'image_tag_quota': the maximum number of tags per image is %d.", maxTags)
}

func pyList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

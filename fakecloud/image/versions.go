package image

import (
	"fmt"
	"net/http"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

// maxMinor is the newest Image API v2 minor version served (v2.17, Glance 2024.2).
const maxMinor = 17

// versions answers the version discovery document: Glance lists every v2 minor version, the
// newest CURRENT, with 300 Multiple Choices at the root and 200 at /versions.
func (s *Service) versions(status int) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		href := scheme + "://" + r.Host + "/image/v2/"
		var vs []map[string]any
		for minor := maxMinor; minor >= 0; minor-- {
			st := "SUPPORTED"
			if minor == maxMinor {
				st = "CURRENT"
			}
			vs = append(vs, map[string]any{
				"id":     fmt.Sprintf("v2.%d", minor),
				"status": st,
				"links":  []map[string]string{{"rel": "self", "href": href}},
			})
		}
		httpapi.WriteJSON(w, status, map[string]any{"versions": vs})
		return nil
	}
}

// imageSchema is the JSON schema of an image that glanceclient reads to build its model.
func imageSchema() map[string]any {
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	nullStr := func(desc string, enum []string) map[string]any {
		e := []any{nil}
		for _, v := range enum {
			e = append(e, v)
		}
		return map[string]any{"type": []string{"null", "string"}, "description": desc, "enum": e}
	}
	ro := func(m map[string]any) map[string]any { m["readOnly"] = true; return m }
	return map[string]any{
		"name": "image",
		"properties": map[string]any{
			"id":               map[string]any{"type": "string", "description": "An identifier for the image", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"},
			"name":             map[string]any{"type": []string{"null", "string"}, "description": "Descriptive name for the image", "maxLength": 255},
			"status":           ro(map[string]any{"type": "string", "description": "Status of the image", "enum": allStatuses}),
			"visibility":       map[string]any{"type": "string", "description": "Scope of image accessibility", "enum": visibilities},
			"protected":        map[string]any{"type": "boolean", "description": "If true, image will not be deletable."},
			"os_hidden":        map[string]any{"type": "boolean", "description": "If true, image will not appear in default image list response."},
			"checksum":         ro(map[string]any{"type": []string{"null", "string"}, "description": "md5 hash of image contents.", "maxLength": 32}),
			"os_hash_algo":     ro(map[string]any{"type": []string{"null", "string"}, "description": "Algorithm to calculate the os_hash_value", "maxLength": 64}),
			"os_hash_value":    ro(map[string]any{"type": []string{"null", "string"}, "description": "Hexdigest of the image contents", "maxLength": 128}),
			"owner":            map[string]any{"type": []string{"null", "string"}, "description": "Owner of the image", "maxLength": 255},
			"size":             ro(map[string]any{"type": []string{"null", "integer"}, "description": "Size of image file in bytes"}),
			"virtual_size":     ro(map[string]any{"type": []string{"null", "integer"}, "description": "Virtual size of image in bytes"}),
			"container_format": nullStr("Format of the container", containerFormats),
			"disk_format":      nullStr("Format of the disk", diskFormats),
			"created_at":       ro(str("Date and time of image registration")),
			"updated_at":       ro(str("Date and time of the last image modification")),
			"tags":             map[string]any{"type": "array", "description": "List of strings related to the image", "items": map[string]any{"type": "string", "maxLength": 255}},
			"direct_url":       ro(str("URL to access the image file kept in external store")),
			"min_ram":          map[string]any{"type": "integer", "description": "Amount of ram (in MB) required to boot image."},
			"min_disk":         map[string]any{"type": "integer", "description": "Amount of disk space (in GB) required to boot image."},
			"self":             ro(str("An image self url")),
			"file":             ro(str("An image file url")),
			"stores":           ro(str("Store in which image data resides.")),
			"schema":           ro(str("An image schema url")),
			"locations":        map[string]any{"type": "array", "description": "A set of URLs to access the image file kept in external store", "items": map[string]any{"type": "object"}},
		},
		"additionalProperties": map[string]any{"type": "string"},
		"links": []map[string]string{
			{"rel": "self", "href": "{self}"},
			{"rel": "enclosure", "href": "{file}"},
			{"rel": "describedby", "href": "{schema}"},
		},
	}
}

func (s *Service) schemaImage(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, imageSchema())
	return nil
}

func (s *Service) schemaImages(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"name": "images",
		"properties": map[string]any{
			"images": map[string]any{"type": "array", "items": imageSchema()},
			"schema": map[string]any{"type": "string"},
			"first":  map[string]any{"type": "string"},
			"next":   map[string]any{"type": "string"},
		},
		"links": []map[string]string{
			{"rel": "first", "href": "{first}"},
			{"rel": "next", "href": "{next}"},
			{"rel": "describedby", "href": "{schema}"},
		},
	})
	return nil
}

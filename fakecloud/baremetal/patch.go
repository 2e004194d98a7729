package baremetal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

// patchOp is one operation of an RFC 6902 JSON patch, as Ironic accepts them.
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// decodePatch reads a JSON patch document: a non-empty list of add, replace and remove
// operations with paths starting at the root.
func decodePatch(r *http.Request) ([]patchOp, error) {
	var ops []patchOp
	if err := httpapi.Decode(r, &ops); err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return nil, httpapi.BadRequest("Patch must not be empty.")
	}
	for _, o := range ops {
		switch o.Op {
		case "add", "replace":
			if o.Value == nil {
				return nil, httpapi.BadRequest("'add' and 'replace' operations need a value")
			}
		case "remove":
		default:
			return nil, httpapi.BadRequest("Invalid input for field/attribute op. Value: '%s'. Value should be 'add', 'replace' or 'remove'", o.Op)
		}
		if !strings.HasPrefix(o.Path, "/") || o.Path == "/" {
			return nil, httpapi.BadRequest("Invalid input for field/attribute path. Value: '%s'. '%s' is not a valid path", o.Path, o.Path)
		}
	}
	return ops, nil
}

// pointer splits a JSON pointer into unescaped tokens.
func pointer(path string) []string {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return parts
}

// resourcePatch describes what a patch may touch on one kind of resource.
type resourcePatch struct {
	patchable map[string]bool // root attributes that may change
	internal  map[string]bool // root attributes that exist but may not change
	mandatory map[string]bool // root attributes that may not be removed
}

// apply runs ops on doc (the resource's patchable attributes as JSON values) and returns the
// set of root attributes that changed.
func (rp resourcePatch) apply(doc map[string]any, ops []patchOp) (map[string]bool, error) {
	changed := map[string]bool{}
	for _, o := range ops {
		toks := pointer(o.Path)
		root := toks[0]
		if rp.internal[root] {
			return nil, httpapi.BadRequest("'/%s' is an internal attribute and can not be updated", root)
		}
		if !rp.patchable[root] {
			if o.Op == "add" {
				return nil, httpapi.BadRequest("Adding a new attribute (/%s) to the root of the resource is not allowed", root)
			}
			return nil, httpapi.BadRequest("can't %s a non-existent object '%s'", o.Op, root)
		}
		var val any
		if o.Op != "remove" {
			if err := json.Unmarshal(o.Value, &val); err != nil {
				return nil, httpapi.BadRequest("Invalid value for %s: %v", o.Path, err)
			}
		}
		changed[root] = true
		if len(toks) == 1 {
			if o.Op == "remove" {
				if rp.mandatory[root] {
					return nil, httpapi.BadRequest("'/%s' is a mandatory attribute and can not be removed", root)
				}
				doc[root] = nil
			} else {
				doc[root] = val
			}
			continue
		}
		// A nested member: walk to its parent.
		var parent any = doc[root]
		for _, t := range toks[1 : len(toks)-1] {
			parent = child(parent, t)
			if parent == nil {
				return nil, httpapi.BadRequest("can't %s a non-existent object '%s'", o.Op, t)
			}
		}
		last := toks[len(toks)-1]
		switch p := parent.(type) {
		case map[string]any:
			_, exists := p[last]
			if (o.Op == "replace" || o.Op == "remove") && !exists {
				return nil, httpapi.BadRequest("can't %s a non-existent object '%s'", o.Op, last)
			}
			if o.Op == "remove" {
				delete(p, last)
			} else {
				p[last] = val
			}
		default:
			return nil, httpapi.BadRequest("can't %s a member of '%s': it is not an object", o.Op, strings.Join(toks[:len(toks)-1], "/"))
		}
	}
	return changed, nil
}

func child(v any, tok string) any {
	switch t := v.(type) {
	case map[string]any:
		return t[tok]
	case []any:
		i, err := strconv.Atoi(tok)
		if err != nil || i < 0 || i >= len(t) {
			return nil
		}
		return t[i]
	}
	return nil
}

// toJSONMap converts a value to its generic JSON form.
func toJSON(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encoding %T: %v", v, err))
	}
	var out any
	_ = json.Unmarshal(data, &out)
	return out
}

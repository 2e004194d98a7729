package network

import (
	"encoding/json"
	"net/http"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// staged is one resource of a create request, checked and ready to store: put stores it as
// part of a transaction (and may still refuse it), view shows it once stored.
type staged struct {
	put  func(tx *store.Tx) error
	view func() map[string]any
	item any // the resource, for check
}

// createResources serves POST on a collection in both of Neutron's forms. {singular: {...}}
// creates one resource and answers {singular: view}. {plural: [...]} is a bulk create (for
// the resources Neutron allows it on, else 400): each item is the resource's fields, bare or
// under singular as Neutron also accepts; all of them are stored in one transaction or none
// is, and the answer is {plural: [views]} in the order given. Both answer 201.
//
// stage checks one item's fields before any is stored; check, if not nil, then looks at the
// staged items together (duplicates within the request).
func createResources[F any](s *Service, w http.ResponseWriter, r *http.Request, singular, plural string, bulk bool,
	stage func(p *httpapi.Principal, b *F) (staged, error), check func(items []staged) error) error {
	var body map[string]json.RawMessage
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	p := caller(r)
	var raws []json.RawMessage
	rawList, isBulk := body[plural]
	switch {
	case isBulk && !bulk:
		return httpapi.BadRequest("Bulk operation not supported for %s.", plural)
	case isBulk:
		if err := httpapi.Unmarshal(rawList, &raws); err != nil {
			return err
		}
		if len(raws) == 0 {
			return httpapi.BadRequest("Resources required: '%s' is an empty list.", plural)
		}
		for i, raw := range raws {
			var wrapped map[string]json.RawMessage
			if json.Unmarshal(raw, &wrapped) == nil {
				if inner, ok := wrapped[singular]; ok {
					raws[i] = inner
				}
			}
		}
	default:
		raw, ok := body[singular]
		if !ok {
			return httpapi.BadRequest("Resource body required: '%s'.", singular)
		}
		raws = []json.RawMessage{raw}
	}
	items := make([]staged, len(raws))
	for i, raw := range raws {
		var b *F
		if err := httpapi.Unmarshal(raw, &b); err != nil {
			return err
		}
		if b == nil {
			return httpapi.BadRequest("Resource body required: '%s'.", singular)
		}
		var err error
		if items[i], err = stage(p, b); err != nil {
			return err
		}
	}
	if check != nil {
		if err := check(items); err != nil {
			return err
		}
	}
	err := s.env.DB.Update(func(tx *store.Tx) error {
		for _, it := range items {
			if err := it.put(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !isBulk {
		return writeOne(w, r, http.StatusCreated, singular, items[0].view())
	}
	views := make([]map[string]any, len(items))
	for i, it := range items {
		views[i] = fieldsOf(r, it.view())
	}
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{plural: views})
	return nil
}

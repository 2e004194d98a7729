package image

import (
	"net/http"
	"slices"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func (s *Service) addTag(w http.ResponseWriter, r *http.Request) error {
	return s.changeTag(w, r, true)
}

func (s *Service) deleteTag(w http.ResponseWriter, r *http.Request) error {
	return s.changeTag(w, r, false)
}

// changeTag adds (idempotently) or removes one tag: 204 either way, 404 for a missing tag.
func (s *Service) changeTag(w http.ResponseWriter, r *http.Request, add bool) error {
	im, p, err := s.lookup(r)
	if err != nil {
		return err
	}
	tag := r.PathValue("tag")
	if add {
		if err := checkTag(tag); err != nil {
			return err
		}
	}
	if !canModify(p, &im) {
		return forbidden("You are not permitted to modify tags on this image.")
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		v, err := s.images.Modify(tx, im.ID, func(v *Image) error {
			has := slices.Contains(v.Tags, tag)
			switch {
			case add && has:
				return nil
			case add:
				if len(v.Tags) >= maxTags {
					return tooManyTags()
				}
				v.Tags = append(v.Tags, tag)
			case !has:
				return httpapi.Errorf(http.StatusNotFound, "NotFound", "Tag %s not found.", tag)
			default:
				v.Tags = slices.DeleteFunc(v.Tags, func(t string) bool { return t == tag })
			}
			v.UpdatedAt = time.Now().UTC().Truncate(time.Second)
			return nil
		})
		if err != nil {
			return err
		}
		action := "tag-added"
		if !add {
			action = "tag-removed"
		}
		s.emit(tx, &v, action, tag)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

package image

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func memberKey(imageID, member string) string { return imageID + "/" + member }

// memberStatus returns project's membership status of an image, if it is a member.
func (s *Service) memberStatus(imageID, project string) (string, bool) {
	if project == "" {
		return "", false
	}
	m, ok := s.members.Get(memberKey(imageID, project))
	return m.Status, ok
}

func memberView(m *Member) map[string]any {
	return map[string]any{"image_id": m.ImageID, "member_id": m.MemberID, "status": m.Status,
		"created_at": m.CreatedAt.UTC().Format(time.RFC3339), "updated_at": m.UpdatedAt.UTC().Format(time.RFC3339),
		"schema": "/v2/schemas/member"}
}

// sharedImage returns the image of the request if it is shared: only shared images have
// members.
func (s *Service) sharedImage(r *http.Request) (Image, *httpapi.Principal, error) {
	im, p, err := s.lookup(r)
	if err != nil {
		return im, p, err
	}
	if im.Visibility != VisibilityShared {
		return im, p, forbidden("Only shared images have members.")
	}
	return im, p, nil
}

func memberNotFound(imageID, member string) error {
	return httpapi.Errorf(http.StatusNotFound, "NotFound", "%s is not a member of image %s", member, imageID)
}

// listMembers lists an image's members: all of them for the owner, one's own entry for a member.
func (s *Service) listMembers(w http.ResponseWriter, r *http.Request) error {
	im, p, err := s.sharedImage(r)
	if err != nil {
		return err
	}
	list := s.members.List(func(_ string, m *Member) bool {
		return m.ImageID == im.ID && (canModify(p, &im) || m.MemberID == p.ProjectID)
	})
	slices.SortFunc(list, func(a, b Member) int { return strings.Compare(a.MemberID, b.MemberID) })
	out := make([]map[string]any, len(list))
	for i := range list {
		out[i] = memberView(&list[i])
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"members": out, "schema": "/v2/schemas/members"})
	return nil
}

func (s *Service) createMember(w http.ResponseWriter, r *http.Request) error {
	im, p, err := s.sharedImage(r)
	if err != nil {
		return err
	}
	var body struct {
		Member *string `json:"member"`
	}
	if err := httpapi.DecodeStrict(r, &body); err != nil {
		return err
	}
	if body.Member == nil || *body.Member == "" || len(*body.Member) > 255 {
		return httpapi.BadRequest("Member to be added not specified")
	}
	if !canModify(p, &im) {
		return forbidden("You are not permitted to create image members for the image.")
	}
	member := *body.Member
	now := time.Now().UTC().Truncate(time.Second)
	m := Member{ImageID: im.ID, MemberID: member, Status: MemberPending, CreatedAt: now, UpdatedAt: now}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		if _, dup := s.members.Get(memberKey(im.ID, member)); dup {
			return httpapi.Conflict("Member %s already exists on image %s", member, im.ID)
		}
		if s.members.Count(func(_ string, m *Member) bool { return m.ImageID == im.ID }) >= maxMembers {
			return httpapi.Errorf(http.StatusRequestEntityTooLarge, "OverLimit",
				"Attempted to exceed quota for 'image_member_quota': the maximum number of members per image is %d.", maxMembers)
		}
		if err := s.members.Put(tx, memberKey(im.ID, member), m); err != nil {
			return err
		}
		s.emit(tx, &im, "member-added", member)
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, memberView(&m))
	return nil
}

// member returns the membership named in the path, visible to the owner and the member.
func (s *Service) member(r *http.Request) (Image, Member, *httpapi.Principal, error) {
	im, p, err := s.sharedImage(r)
	if err != nil {
		return im, Member{}, p, err
	}
	id := r.PathValue("member")
	m, ok := s.members.Get(memberKey(im.ID, id))
	if !ok || (!canModify(p, &im) && id != p.ProjectID) {
		return im, m, p, memberNotFound(im.ID, id)
	}
	return im, m, p, nil
}

func (s *Service) getMember(w http.ResponseWriter, r *http.Request) error {
	_, m, _, err := s.member(r)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, memberView(&m))
	return nil
}

// updateMember lets the member accept or reject the image (only the member may).
func (s *Service) updateMember(w http.ResponseWriter, r *http.Request) error {
	im, m, p, err := s.member(r)
	if err != nil {
		return err
	}
	var body struct {
		Status *string `json:"status"`
	}
	if err := httpapi.DecodeStrict(r, &body); err != nil {
		return err
	}
	if body.Status == nil || !slices.Contains([]string{MemberPending, MemberAccepted, MemberRejected}, *body.Status) {
		return httpapi.BadRequest("Provided object does not match schema 'member': status must be one of pending, accepted, rejected")
	}
	if m.MemberID != p.ProjectID {
		return forbidden("You are not permitted to modify 'status' on this image member.")
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		v, err := s.members.Modify(tx, memberKey(im.ID, m.MemberID), func(v *Member) error {
			v.Status = *body.Status
			v.UpdatedAt = time.Now().UTC().Truncate(time.Second)
			return nil
		})
		if err != nil {
			return memberNotFound(im.ID, m.MemberID)
		}
		m = v
		s.emit(tx, &im, "member-status", m.MemberID+": "+m.Status)
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, memberView(&m))
	return nil
}

func (s *Service) deleteMember(w http.ResponseWriter, r *http.Request) error {
	im, m, p, err := s.member(r)
	if err != nil {
		return err
	}
	if !canModify(p, &im) {
		return forbidden("You are not permitted to delete image members for the image.")
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		if err := s.members.Delete(tx, memberKey(im.ID, m.MemberID)); err != nil {
			return memberNotFound(im.ID, m.MemberID)
		}
		s.emit(tx, &im, "member-removed", m.MemberID)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func memberSchema() map[string]any {
	str := map[string]any{"type": "string"}
	return map[string]any{"name": "member", "properties": map[string]any{
		"image_id": str, "member_id": str, "created_at": str, "updated_at": str, "schema": str,
		"status": map[string]any{"type": "string", "enum": []string{MemberPending, MemberAccepted, MemberRejected}},
	}}
}

func (s *Service) schemaMember(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, memberSchema())
	return nil
}

func (s *Service) schemaMembers(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"name": "members", "properties": map[string]any{
		"members": map[string]any{"type": "array", "items": memberSchema()},
		"schema":  map[string]any{"type": "string"},
	}})
	return nil
}

package image

import (
	"testing"
)

func TestMembers(t *testing.T) {
	e := newTestEnv(t, Options{})
	code, im := e.do(t, "demo", "POST", "/image/v2/images", "application/json", map[string]any{"name": "shared-img", "visibility": "shared"})
	if code != 201 {
		t.Fatal(code)
	}
	id := im["id"].(string)
	base := "/image/v2/images/" + id
	listCount := func(token, query string) int {
		t.Helper()
		_, body := e.do(t, token, "GET", "/image/v2/images"+query, "", nil)
		return len(body["images"].([]any))
	}
	if code, _ := e.do(t, "other", "GET", base, "", nil); code != 404 {
		t.Fatalf("non-member reads a shared image: %d", code)
	}
	if code, _ := e.do(t, "other", "POST", base+"/members", "application/json", map[string]any{"member": "other"}); code != 404 {
		t.Fatalf("non-member adds itself: %d", code)
	}
	code, m := e.do(t, "demo", "POST", base+"/members", "application/json", map[string]any{"member": "other"})
	if code != 200 || m["status"] != "pending" || m["member_id"] != "other" {
		t.Fatalf("add member: %d %v", code, m)
	}
	if code, _ := e.do(t, "demo", "POST", base+"/members", "application/json", map[string]any{"member": "other"}); code != 409 {
		t.Fatalf("add member twice: %d", code)
	}
	if code, _ := e.do(t, "other", "GET", base, "", nil); code != 200 {
		t.Fatalf("pending member reads the image: %d", code)
	}
	if n := listCount("other", ""); n != 0 {
		t.Fatalf("pending image in the default list: %d", n)
	}
	if n := listCount("other", "?member_status=pending&visibility=shared"); n != 1 {
		t.Fatalf("member_status=pending: %d", n)
	}
	if code, _ := e.do(t, "demo", "PUT", base+"/members/other", "application/json", map[string]any{"status": "accepted"}); code != 403 {
		t.Fatalf("owner accepts for the member: %d", code)
	}
	if code, _ := e.do(t, "other", "PUT", base+"/members/other", "application/json", map[string]any{"status": "maybe"}); code != 400 {
		t.Fatalf("bad member status: %d", code)
	}
	if code, body := e.do(t, "other", "PUT", base+"/members/other", "application/json", map[string]any{"status": "accepted"}); code != 200 || body["status"] != "accepted" {
		t.Fatalf("member accepts: %d %v", code, body)
	}
	if n := listCount("other", ""); n != 1 {
		t.Fatalf("accepted image not in the default list: %d", n)
	}
	if _, ok := e.svc.Image("other", id); !ok {
		t.Fatal("Image(member, shared) not visible")
	}
	if code, body := e.do(t, "other", "GET", base+"/members", "", nil); code != 200 || len(body["members"].([]any)) != 1 {
		t.Fatalf("member lists members: %d %v", code, body)
	}
	if code, _ := e.do(t, "other", "DELETE", base+"/members/other", "", nil); code != 403 {
		t.Fatalf("member removes itself: %d", code)
	}
	if code, _ := e.do(t, "demo", "DELETE", base+"/members/other", "", nil); code != 204 {
		t.Fatalf("owner removes the member: %d", code)
	}
	if code, _ := e.do(t, "other", "GET", base, "", nil); code != 404 {
		t.Fatalf("removed member reads the image: %d", code)
	}
	// private images have no members
	code, priv := e.do(t, "demo", "POST", "/image/v2/images", "application/json", map[string]any{"name": "p", "visibility": "private"})
	if code != 201 {
		t.Fatal(code)
	}
	if code, _ := e.do(t, "demo", "POST", "/image/v2/images/"+priv["id"].(string)+"/members", "application/json", map[string]any{"member": "other"}); code != 403 {
		t.Fatalf("member of a private image: %d", code)
	}
}

package baremetal

import "testing"

// FuzzNodeRequests sends arbitrary bodies to node create, patch and provision: every answer
// must be a success or a 4xx, never a 500.
func FuzzNodeRequests(f *testing.F) {
	f.Add([]byte(`{"driver":"fake-hardware","name":"n","properties":{"cpus":1}}`), []byte(`[{"op":"add","path":"/extra/a","value":1}]`), []byte(`{"target":"manage"}`))
	f.Add([]byte(`{"driver":"ipmi","resource_class":null,"automated_clean":false}`), []byte(`[{"op":"remove","path":"/properties/cpus"}]`), []byte(`{"target":"active","configdrive":{"user_data":{"a":1}}}`))
	f.Add([]byte(`[]`), []byte(`[{"op":"replace","path":"/name","value":null}]`), []byte(`{"target":"abort"}`))
	e := newTestEnv(f, nil)
	if err := e.svc.Seed(DefaultSeed(1)); err != nil {
		f.Fatal(err)
	}
	id := e.svc.nodes.List(nil)[0].UUID
	f.Fuzz(func(t *testing.T, create, patch, prov []byte) {
		if code, body := e.do(t, "admin", "POST", "/baremetal/v1/nodes", "application/json", create); code >= 500 {
			t.Fatalf("create %q: %d %v", create, code, body)
		}
		if code, body := e.do(t, "admin", "PATCH", "/baremetal/v1/nodes/"+id, "application/json", patch); code >= 500 {
			t.Fatalf("patch %q: %d %v", patch, code, body)
		}
		if code, body := e.do(t, "admin", "PUT", "/baremetal/v1/nodes/"+id+"/states/provision", "application/json", prov); code >= 500 {
			t.Fatalf("provision %q: %d %v", prov, code, body)
		}
	})
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if cond() {
			return
		}
		sleep()
	}
	t.Fatal("condition not met in time")
}

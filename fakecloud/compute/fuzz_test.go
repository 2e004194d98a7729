package compute

import (
	"encoding/json"
	"testing"
)

// fuzzEnv is shared by the fuzz targets: a compute service on a real store.
func fuzzTarget(f *testing.F, method string, path func(e *testEnv) string, seeds ...string) {
	e := newTestEnv(f, envOpt{})
	unlimited(e, f, "demo")
	for _, s := range seeds {
		f.Add(s, "2.60")
		f.Add(s, "2.1")
	}
	f.Fuzz(func(t *testing.T, body, mv string) {
		rec := e.serve("demo", mv, method, path(e), []byte(body))
		if rec.Code >= 500 {
			t.Fatalf("%s %q (mv %q): %d %s", method, body, mv, rec.Code, rec.Body)
		}
		if rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", rec.Body)
		}
	})
}

func FuzzCreateServer(f *testing.F) {
	fuzzTarget(f, "POST", func(*testEnv) string { return "/compute/v2.1/servers" },
		`{"server": {"name": "a", "flavorRef": "`+FlavorID("g1.small")+`", "imageRef": "`+imageID+`", "networks": "none"}}`,
		`{"server": {"name": "a", "flavorRef": 1, "imageRef": "`+imageID+`", "networks": [{"uuid": "`+netID+`", "fixed_ip": "10.0.0.9"}], "user_data": "aGk=", "metadata": {"a": "b"}, "min_count": "2", "max_count": 3}, "os:scheduler_hints": {"group": ["x"]}}`,
		`{"server": {"name": "b", "flavorRef": "`+FlavorID("bm1.medium")+`", "imageRef": "http://x/`+imageID+`", "networks": [{"port": "`+portID+`"}], "config_drive": "true", "tags": ["a"], "block_device_mapping_v2": [{"source_type": "image", "uuid": "x", "boot_index": 0}]}}`,
		`{"server": null}`, `[]`, `"x"`, `{"server": {"networks": {}}}`,
	)
}

func FuzzServerAction(f *testing.F) {
	var id string
	fuzzTarget(f, "POST", func(e *testEnv) string {
		if id == "" {
			rec := e.serve("demo", "2.60", "POST", "/compute/v2.1/servers", createBody("fuzz"))
			var out struct{ Server struct{ ID string } }
			_ = json.Unmarshal(rec.Body.Bytes(), &out)
			id = out.Server.ID
		}
		return "/compute/v2.1/servers/" + id + "/action"
	}, `{"os-stop": null}`, `{"os-start": null}`, `{"reboot": {"type": "HARD"}}`, `{"lock": null}`, `{"unlock": {}}`, `{"reboot": 5}`)
}

func FuzzOtherBodies(f *testing.F) {
	paths := []string{
		"/compute/v2.1/flavors", "/compute/v2.1/os-keypairs", "/compute/v2.1/os-server-groups",
	}
	e := newTestEnv(f, envOpt{})
	for _, s := range []string{
		`{"flavor": {"name": "x", "ram": 1, "vcpus": "2", "disk": 0, "swap": "", "rxtx_factor": 1.5}}`,
		`{"keypair": {"name": "k", "type": "x509", "public_key": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"}}`,
		`{"server_group": {"name": "g", "policy": "anti-affinity", "rules": {"max_server_per_host": "2"}}}`,
		`{"server_group": {"name": "g", "policies": ["affinity", "x"]}}`,
	} {
		for i := range paths {
			f.Add(i, s, "2.64")
		}
	}
	f.Fuzz(func(t *testing.T, which int, body, mv string) {
		if which < 0 {
			which = -which
		}
		path := paths[which%len(paths)]
		for _, tok := range []string{"admin", "demo"} {
			rec := e.serve(tok, mv, "POST", path, []byte(body))
			if rec.Code >= 500 {
				t.Fatalf("POST %s %q (mv %q): %d %s", path, body, mv, rec.Code, rec.Body)
			}
		}
	})
}

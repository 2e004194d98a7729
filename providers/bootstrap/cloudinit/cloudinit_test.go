package cloudinit

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
)

var testHash = "sha256:" + strings.Repeat("ab", 32)

func baseInput() Input {
	return Input{
		APIServerEndpoint: "203.0.113.10:6443",
		Token:             "abcdef.0123456789abcdef",
		CACertHashes:      []string{testHash},
		NodeType:          NodeTypeVM,
	}
}

// parsed is the rendered user-data read back: the cloud-config and the files it writes.
type parsed struct {
	cfg   cloudConfig
	files map[string]writeFile
	join  joinConfiguration
}

func render(t *testing.T, in Input) parsed {
	t.Helper()
	out, err := Render(in)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if !bytes.HasPrefix(out, []byte("#cloud-config\n")) {
		t.Fatalf("user-data does not start with #cloud-config:\n%s", out)
	}
	var p parsed
	if err := yaml.UnmarshalStrict(out, &p.cfg); err != nil {
		t.Fatalf("user-data is not valid YAML: %v\n%s", err, out)
	}
	p.files = map[string]writeFile{}
	for _, f := range p.cfg.WriteFiles {
		if _, dup := p.files[f.Path]; dup {
			t.Fatalf("file %s written twice", f.Path)
		}
		p.files[f.Path] = f
	}
	jf, ok := p.files[JoinConfigPath]
	if !ok {
		t.Fatalf("no %s in write_files", JoinConfigPath)
	}
	if err := yaml.UnmarshalStrict([]byte(jf.Content), &p.join); err != nil {
		t.Fatalf("the JoinConfiguration does not parse: %v\n%s", err, jf.Content)
	}
	return p
}

func argValue(t *testing.T, j joinConfiguration, name string) string {
	t.Helper()
	var found []string
	for _, a := range j.NodeRegistration.KubeletExtraArgs {
		if a.Name == name {
			found = append(found, a.Value)
		}
	}
	if len(found) != 1 {
		t.Fatalf("kubelet flag %s appears %d times, want once: %+v", name, len(found), j.NodeRegistration.KubeletExtraArgs)
	}
	return found[0]
}

func TestRenderJoinConfiguration(t *testing.T) {
	in := baseInput()
	in.CACertHashes = []string{testHash, "sha256:" + strings.Repeat("01", 32)}
	in.Spec.KubeletExtraArgs = map[string]string{"max-pods": "50", "v": "2"}
	p := render(t, in)
	j := p.join
	if j.APIVersion != "kubeadm.k8s.io/v1beta4" || j.Kind != "JoinConfiguration" {
		t.Errorf("apiVersion/kind = %s/%s", j.APIVersion, j.Kind)
	}
	bt := j.Discovery.BootstrapToken
	if bt.APIServerEndpoint != "203.0.113.10:6443" {
		t.Errorf("apiServerEndpoint = %q", bt.APIServerEndpoint)
	}
	if bt.Token != "abcdef.0123456789abcdef" {
		t.Errorf("token = %q", bt.Token)
	}
	if !slices.Equal(bt.CACertHashes, in.CACertHashes) {
		t.Errorf("caCertHashes = %v, want %v", bt.CACertHashes, in.CACertHashes)
	}
	if !slices.Equal(j.NodeRegistration.IgnorePreflightErrors, []string{"all"}) {
		t.Errorf("ignorePreflightErrors = %v", j.NodeRegistration.IgnorePreflightErrors)
	}
	if j.Patches.Directory != PatchesDir {
		t.Errorf("patches.directory = %q", j.Patches.Directory)
	}
	if got := argValue(t, j, "max-pods"); got != "50" {
		t.Errorf("max-pods = %q", got)
	}
	if got := argValue(t, j, "provider-id"); got != "openstack:///"+ProviderIDPlaceholder {
		t.Errorf("provider-id = %q", got)
	}
	var names []string
	for _, a := range j.NodeRegistration.KubeletExtraArgs {
		names = append(names, a.Name)
	}
	if want := []string{"max-pods", "node-labels", "provider-id", "v"}; !slices.Equal(names, want) {
		t.Errorf("kubelet flags %v, want sorted %v", names, want)
	}
	if f := p.files[JoinConfigPath]; f.Permissions != "0600" {
		t.Errorf("the join configuration (it holds the token) has permissions %q, want 0600", f.Permissions)
	}
}

func TestRenderKubeletPatch(t *testing.T) {
	p := render(t, baseInput())
	f, ok := p.files[KubeletPatchPath]
	if !ok {
		t.Fatalf("no %s", KubeletPatchPath)
	}
	if KubeletPatchPath != "/run/kaas/patches/kubeletconfiguration+strategic.yaml" {
		t.Errorf("patch file %s is not named as kubeadm expects", KubeletPatchPath)
	}
	var patch map[string]any
	if err := yaml.Unmarshal([]byte(f.Content), &patch); err != nil {
		t.Fatal(err)
	}
	if v, ok := patch["failCgroupV1"]; !ok || v != false {
		t.Errorf("failCgroupV1 = %v (present %v), want false", v, ok)
	}
	if patch["kind"] != "KubeletConfiguration" {
		t.Errorf("kind = %v", patch["kind"])
	}
}

func TestRenderLabels(t *testing.T) {
	for _, tc := range []struct {
		nodeType NodeType
		labels   map[string]string
		want     string
	}{
		{NodeTypeVM, nil, "node.kaas.sandbox/type=vm"},
		{NodeTypeBareMetal, nil, "node.kaas.sandbox/type=baremetal"},
		{NodeTypeVM, map[string]string{"zone": "a", "node.kubernetes.io/pool": "gpu", "app": ""},
			"app=,node.kaas.sandbox/type=vm,node.kubernetes.io/pool=gpu,zone=a"},
	} {
		in := baseInput()
		in.NodeType = tc.nodeType
		in.Spec.NodeLabels = tc.labels
		p := render(t, in)
		if got := argValue(t, p.join, "node-labels"); got != tc.want {
			t.Errorf("%s %v: node-labels = %q, want %q", tc.nodeType, tc.labels, got, tc.want)
		}
	}
}

func TestRenderTaints(t *testing.T) {
	in := baseInput()
	p := render(t, in)
	if p.join.NodeRegistration.Taints == nil || len(p.join.NodeRegistration.Taints) != 0 {
		t.Errorf("no taints asked: taints = %#v, want an empty list", p.join.NodeRegistration.Taints)
	}
	in.Spec.NodeTaints = []corev1.Taint{
		{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule},
		{Key: "example.com/x", Effect: corev1.TaintEffectNoExecute},
	}
	p = render(t, in)
	if !slices.Equal(p.join.NodeRegistration.Taints, in.Spec.NodeTaints) {
		t.Errorf("taints = %+v, want %+v", p.join.NodeRegistration.Taints, in.Spec.NodeTaints)
	}
}

func TestRenderFiles(t *testing.T) {
	in := baseInput()
	in.Spec.Files = []bootstrapv1.File{
		{Path: "/etc/a.conf", Content: "line: 'one'\nline2: \"two\"\n", Permissions: "0640", Owner: "root:adm"},
		{Path: "/etc/empty"},
	}
	p := render(t, in)
	paths := make([]string, 0, len(p.cfg.WriteFiles))
	for _, f := range p.cfg.WriteFiles {
		paths = append(paths, f.Path)
	}
	if want := []string{JoinConfigPath, KubeletPatchPath, "/etc/a.conf", "/etc/empty"}; !slices.Equal(paths, want) {
		t.Errorf("write_files paths %v, want %v", paths, want)
	}
	got := p.files["/etc/a.conf"]
	if got.Content != in.Spec.Files[0].Content || got.Permissions != "0640" || got.Owner != "root:adm" {
		t.Errorf("file = %+v, want %+v", got, in.Spec.Files[0])
	}
}

func TestRenderRunCmd(t *testing.T) {
	in := baseInput()
	in.Spec.PreJoinCommands = []string{"echo pre1", "echo 'pre 2'"}
	in.Spec.PostJoinCommands = []string{"echo post"}
	p := render(t, in)
	want := []string{"set -e", "echo pre1", "echo 'pre 2'"}
	want = append(want, ProviderIDCommands()...)
	want = append(want,
		"kubeadm join --config /run/kaas/kubeadm-join.yaml",
		"echo post",
		"mkdir -p /run/cluster-api && echo success > /run/cluster-api/bootstrap-success.complete",
	)
	if !slices.Equal(p.cfg.RunCmd, want) {
		t.Errorf("runcmd:\n%s\nwant:\n%s", strings.Join(p.cfg.RunCmd, "\n"), strings.Join(want, "\n"))
	}
}

func TestProviderIDCommands(t *testing.T) {
	cmds := strings.Join(ProviderIDCommands(), "\n")
	for _, want := range []string{
		"cloud-init query instance_id",
		"s|" + ProviderIDPlaceholder + "|$instance_id|g",
		JoinConfigPath,
		"exit 1",
	} {
		if !strings.Contains(cmds, want) {
			t.Errorf("provider-id commands lack %q:\n%s", want, cmds)
		}
	}
	// An empty answer must stop the script: the case pattern covers ''.
	if !strings.Contains(cmds, `case "$instance_id" in ''|`) {
		t.Errorf("an empty instance ID is not refused:\n%s", cmds)
	}
}

func TestRenderDeterministic(t *testing.T) {
	in := baseInput()
	in.Spec.NodeLabels = map[string]string{}
	in.Spec.KubeletExtraArgs = map[string]string{}
	for i := range 20 {
		in.Spec.NodeLabels[fmt.Sprintf("l%02d", i)] = "x"
		in.Spec.KubeletExtraArgs[fmt.Sprintf("flag-%02d", i)] = "y"
	}
	first, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		again, err := Render(in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatal("two renders of the same input differ")
		}
	}
}

func TestRenderRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Input)
		want   string
	}{
		"no port":           {func(in *Input) { in.APIServerEndpoint = "203.0.113.10" }, "not host:port"},
		"bad port":          {func(in *Input) { in.APIServerEndpoint = "203.0.113.10:0" }, "invalid port"},
		"bad token":         {func(in *Input) { in.Token = "short.x" }, "bootstrap token"},
		"no hashes":         {func(in *Input) { in.CACertHashes = nil }, "no CA certificate hash"},
		"bad hash":          {func(in *Input) { in.CACertHashes = []string{"md5:00"} }, "md5:00"},
		"node type":         {func(in *Input) { in.NodeType = "" }, "node type"},
		"type label":        {func(in *Input) { in.Spec.NodeLabels = map[string]string{NodeTypeLabel: "vm"} }, "set by the provider"},
		"label with comma":  {func(in *Input) { in.Spec.NodeLabels = map[string]string{"a": "b,c=d"} }, "node label a value"},
		"provider-id flag":  {func(in *Input) { in.Spec.KubeletExtraArgs = map[string]string{"provider-id": "x"} }, "provider-id may not be set"},
		"node-labels flag":  {func(in *Input) { in.Spec.KubeletExtraArgs = map[string]string{"node-labels": "x"} }, "use spec.nodeLabels"},
		"relative file":     {func(in *Input) { in.Spec.Files = []bootstrapv1.File{{Path: "etc/x"}} }, "not absolute"},
		"file in /run/kaas": {func(in *Input) { in.Spec.Files = []bootstrapv1.File{{Path: "/run/kaas/../kaas/x"}} }, "under /run/kaas"},
	} {
		t.Run(name, func(t *testing.T) {
			in := baseInput()
			tc.mutate(&in)
			_, err := Render(in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("the error leaks the token secret: %v", err)
			}
		})
	}
}

// runScript runs the rendered runcmd the way cloud-init does (one /bin/sh script) with fake
// cloud-init and kubeadm commands, the node paths moved under a temporary directory.
func runScript(t *testing.T, instanceID string, queryFails, joinFails bool) (root string, out string, err error) {
	t.Helper()
	root = t.TempDir()
	in := baseInput()
	in.Spec.PreJoinCommands = []string{"echo pre >> " + root + "/log"}
	in.Spec.PostJoinCommands = []string{"echo post >> " + root + "/log"}
	p := render(t, in)
	relocate := strings.NewReplacer("/run/kaas", root+"/run/kaas", "/run/cluster-api", root+"/run/cluster-api")

	for _, f := range p.cfg.WriteFiles[:2] {
		path := relocate.Replace(f.Path)
		mustWrite(t, path, f.Content, 0o600)
	}
	bin := root + "/bin"
	query := fmt.Sprintf("#!/bin/sh\necho %q\n", instanceID)
	if queryFails {
		query = "#!/bin/sh\nexit 3\n"
	}
	mustWrite(t, bin+"/cloud-init", query, 0o755)
	join := fmt.Sprintf("#!/bin/sh\necho \"kubeadm $*\" >> %s/log\n", root)
	if joinFails {
		join += "exit 1\n"
	}
	mustWrite(t, bin+"/kubeadm", join, 0o755)

	script := "#!/bin/sh\n"
	for _, c := range p.cfg.RunCmd {
		script += relocate.Replace(c) + "\n"
	}
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	b, err := cmd.CombinedOutput()
	return root, string(b), err
}

func mustWrite(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunCmdScript(t *testing.T) {
	const uuid = "0b9f3b5e-2f7e-4a44-9d7c-6f1f2f3a4b5c"
	t.Run("success", func(t *testing.T) {
		root, out, err := runScript(t, uuid, false, false)
		if err != nil {
			t.Fatalf("script failed: %v\n%s", err, out)
		}
		join := readFile(t, root+JoinConfigPath)
		if !strings.Contains(join, "openstack:///"+uuid) || strings.Contains(join, ProviderIDPlaceholder) {
			t.Errorf("provider ID not substituted:\n%s", join)
		}
		var j joinConfiguration
		if err := yaml.UnmarshalStrict([]byte(join), &j); err != nil {
			t.Fatalf("substituted JoinConfiguration does not parse: %v", err)
		}
		if got := argValue(t, j, "provider-id"); got != "openstack:///"+uuid {
			t.Errorf("provider-id = %q", got)
		}
		log := readFile(t, root+"/log")
		want := "pre\nkubeadm join --config " + root + JoinConfigPath + "\npost\n"
		if log != want {
			t.Errorf("steps ran as\n%s\nwant\n%s", log, want)
		}
		if got := readFile(t, root+SentinelPath); got != "success\n" {
			t.Errorf("sentinel = %q", got)
		}
	})
	for name, tc := range map[string]struct {
		id                    string
		queryFails, joinFails bool
		wantLog, wantOut      string
	}{
		"empty instance ID":  {id: "", wantLog: "pre\n", wantOut: "empty or not a server UUID"},
		"odd instance ID":    {id: "a|b", wantLog: "pre\n", wantOut: "empty or not a server UUID"},
		"query fails":        {id: uuid, queryFails: true, wantLog: "pre\n", wantOut: "query instance_id failed"},
		"kubeadm join fails": {id: uuid, joinFails: true, wantLog: "pre\nkubeadm join"},
	} {
		t.Run(name, func(t *testing.T) {
			root, out, err := runScript(t, tc.id, tc.queryFails, tc.joinFails)
			if err == nil {
				t.Fatalf("script succeeded, want a failure:\n%s", out)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Errorf("output %q lacks %q", out, tc.wantOut)
			}
			log := readFile(t, root+"/log")
			if !strings.HasPrefix(log, tc.wantLog) || strings.Contains(log, "post") {
				t.Errorf("steps ran as %q, want %q and nothing after the failure", log, tc.wantLog)
			}
			if _, err := os.Stat(root + SentinelPath); !os.IsNotExist(err) {
				t.Errorf("sentinel file exists after a failure (stat: %v)", err)
			}
		})
	}
}

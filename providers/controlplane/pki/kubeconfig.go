package pki

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/cluster-api/util/certs"
	"sigs.k8s.io/cluster-api/util/secret"

	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests/names"
)

// kubeconfigSpec describes one kubeconfig with a client certificate from the cluster CA.
type kubeconfigSpec struct {
	secret string
	server string
	// user names the kubeconfig's user entry; the context is user@<cluster>.
	user string
	cn   string
	orgs []string
}

// kubeconfigs lists the kubeconfigs of a cluster. Params are valid.
func kubeconfigs(p Params, n SecretNames) ([]kubeconfigSpec, error) {
	internal := names.APIServerURL(p.ClusterName, p.Namespace)
	admin, err := p.adminServer()
	if err != nil {
		return nil, err
	}
	return []kubeconfigSpec{
		{secret: n.ControllerManagerKubeconfig, server: internal, user: "system:kube-controller-manager", cn: "system:kube-controller-manager"},
		{secret: n.SchedulerKubeconfig, server: internal, user: "system:kube-scheduler", cn: "system:kube-scheduler"},
		// Cluster API's layout (util/kubeconfig.New): user <cluster>-admin, kubernetes-admin
		// in system:masters.
		{secret: n.AdminKubeconfig, server: admin, user: p.ClusterName + "-admin", cn: "kubernetes-admin", orgs: []string{"system:masters"}},
	}, nil
}

// build issues a client certificate and writes the kubeconfig around it.
func (k kubeconfigSpec) build(cluster string, ca *authority) (map[string][]byte, error) {
	certPEM, keyPEM, err := issue(ca, k.cn, k.orgs, nil, nil, clientUsages)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", k.secret, err)
	}
	contextName := k.user + "@" + cluster
	cfg := clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{cluster: {Server: k.server, CertificateAuthorityData: ca.pem}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{k.user: {ClientCertificateData: certPEM, ClientKeyData: keyPEM}},
		Contexts:       map[string]*clientcmdapi.Context{contextName: {Cluster: cluster, AuthInfo: k.user}},
		CurrentContext: contextName,
	}
	out, err := clientcmd.Write(cfg)
	if err != nil {
		return nil, fmt.Errorf("writing kubeconfig %s: %w", k.secret, err)
	}
	return map[string][]byte{secret.KubeconfigDataName: out}, nil
}

// current reports whether data holds a kubeconfig for the wanted server, trusting ca, with a
// current client certificate for the wanted user.
func (k kubeconfigSpec) current(data map[string][]byte, ca *authority) bool {
	cfg, err := clientcmd.Load(data[secret.KubeconfigDataName])
	if err != nil {
		return false
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return false
	}
	cluster, ok := cfg.Clusters[ctx.Cluster]
	if !ok || cluster.Server != k.server {
		return false
	}
	caCert, err := certs.DecodeCertPEM(cluster.CertificateAuthorityData)
	if err != nil || !caCert.Equal(ca.cert) {
		return false
	}
	user, ok := cfg.AuthInfos[ctx.AuthInfo]
	if !ok {
		return false
	}
	return currentCert(ca, user.ClientCertificateData, user.ClientKeyData, k.cn, k.orgs, nil, nil, clientUsages)
}

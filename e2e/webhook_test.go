//go:build e2e

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// An admission webhook served by a pod of the customer cluster, which the hosted apiserver can
// only call through the tunnel: agnhost's /configmaps webhook (Kubernetes' own test server,
// preloaded in every node image as internal/testimages names it) refuses a configmap whose
// webhook-e2e-test key holds webhook-disallow. Each webhook only sees the configmaps labelled
// for it, so the rest of the cluster is not slowed or broken by it.
const (
	webhookImage    = "kaas.local/e2e/agnhost:2.66.1"
	webhookLabel    = "e2e.kaas.sandbox/tunnel-webhook"
	webhookRefusal  = "unwanted key and value"
	webhookDataKey  = "webhook-e2e-test"
	webhookDisallow = "webhook-disallow"
)

// deployTunnelWebhook runs the webhook named name in a pod pinned to node, with its Service,
// serving certificate and ValidatingWebhookConfiguration (failurePolicy Fail).
func deployTunnelWebhook(ctx context.Context, workload client.Client, name, node string) error {
	ns := metav1.NamespaceDefault
	caPEM, certPEM, keyPEM, err := servingCert(name + "." + ns + ".svc")
	if err != nil {
		return err
	}
	labels := map[string]string{"app": name}
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Type: corev1.SecretTypeTLS, Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Spec: corev1.PodSpec{
				NodeName: node,
				Containers: []corev1.Container{{
					Name: "webhook", Image: webhookImage, ImagePullPolicy: corev1.PullIfNotPresent,
					Args:  []string{"webhook", "--tls-cert-file=/certs/tls.crt", "--tls-private-key-file=/certs/tls.key", "--port=8443"},
					Ports: []corev1.ContainerPort{{ContainerPort: 8443}},
					ReadinessProbe: &corev1.Probe{PeriodSeconds: 1, ProbeHandler: corev1.ProbeHandler{
						HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromInt32(8443), Scheme: corev1.URISchemeHTTPS}}},
					VolumeMounts: []corev1.VolumeMount{{Name: "certs", MountPath: "/certs", ReadOnly: true}},
				}},
				Volumes: []corev1.Volume{{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}}},
			}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 443, TargetPort: intstr.FromInt32(8443)}}}},
		&admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name},
			Webhooks: []admissionv1.ValidatingWebhook{{
				Name: name + ".e2e.kaas.sandbox",
				ClientConfig: admissionv1.WebhookClientConfig{CABundle: caPEM,
					Service: &admissionv1.ServiceReference{Namespace: ns, Name: name, Path: ptr.To("/configmaps"), Port: ptr.To[int32](443)}},
				Rules: []admissionv1.RuleWithOperations{{
					Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
				}},
				ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{webhookLabel: name}},
				FailurePolicy:           ptr.To(admissionv1.Fail),
				SideEffects:             ptr.To(admissionv1.SideEffectClassNone),
				AdmissionReviewVersions: []string{"v1"},
				// As long as the tunnel spec's bound on "at once": a call that hangs until this
				// timeout, instead of failing at once, fails the negative control.
				TimeoutSeconds: ptr.To[int32](int32(tunnelFailFast / time.Second)),
			}},
		},
	}
	for _, o := range objs {
		if err := workload.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// webhookConfigMap tries to create a configmap that the webhook name sees, holding value under
// the key agnhost looks at, and deletes it again if it was created.
func webhookConfigMap(ctx context.Context, workload client.Client, name, value string) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, GenerateName: name + "-", Labels: map[string]string{webhookLabel: name}},
		Data:       map[string]string{webhookDataKey: value},
	}
	if err := workload.Create(ctx, cm); err != nil {
		return err
	}
	return client.IgnoreNotFound(workload.Delete(ctx, cm))
}

// webhookRefuses checks that the webhook name answers: it refuses a disallowed configmap with
// agnhost's reason and lets an allowed one through.
func webhookRefuses(ctx context.Context, workload client.Client, name string) error {
	err := webhookConfigMap(ctx, workload, name, webhookDisallow)
	if err == nil {
		return fmt.Errorf("webhook %s let a configmap holding %s through", name, webhookDisallow)
	}
	if !strings.Contains(err.Error(), webhookRefusal) {
		return fmt.Errorf("webhook %s did not answer: %w", name, err)
	}
	if err := webhookConfigMap(ctx, workload, name, "allowed"); err != nil {
		return fmt.Errorf("webhook %s refused an allowed configmap: %w", name, err)
	}
	return nil
}

// deleteTunnelWebhook removes what deployTunnelWebhook made, the webhook configuration first.
func deleteTunnelWebhook(ctx context.Context, workload client.Client, name string) {
	ns := metav1.NamespaceDefault
	for _, o := range []client.Object{
		&admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}},
	} {
		_ = workload.Delete(ctx, o)
	}
}

// servingCert makes a CA and a serving certificate for dnsName signed by it, valid for a day,
// and returns the CA, the certificate and its key in PEM.
func servingCert(dnsName string) (caPEM, certPEM, keyPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e-webhook-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: dnsName}, DNSNames: []string{dnsName},
		NotBefore: caTmpl.NotBefore, NotAfter: caTmpl.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

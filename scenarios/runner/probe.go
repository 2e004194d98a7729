package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kaas-sandbox/sandbox/scenarios"
)

// canary is a ConfigMap a writeCanary step wrote into the customer cluster.
type canary struct {
	namespace, name, value string
}

const canaryKey = "value"

// probe checks the customer cluster as its user would, retrying within the interval.
func (r *run) probe(ctx context.Context, p *scenarios.Probe) error {
	return r.retry(ctx, p.Within, "probe", func() error {
		c, err := r.openCustomer(ctx)
		if err != nil {
			return err
		}
		if p.APIServer != nil {
			path := p.APIServer.Path
			if path == "" {
				path = "/readyz"
			}
			if _, err := c.Get(ctx, path); err != nil {
				return fmt.Errorf("GET %s on the customer cluster: %w", path, err)
			}
			return nil
		}
		return probeLogs(ctx, c, p.Logs)
	})
}

// probeLogs reads the logs of the pod a probe picks, which kube-apiserver fetches from the
// kubelet through the tunnel.
func probeLogs(ctx context.Context, c Customer, l *scenarios.LogsProbe) error {
	ns := l.Namespace
	if ns == "" {
		ns = "kube-system"
	}
	name := l.Name
	if name == "" {
		pods, err := c.Clientset().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(l.Selector).String()})
		if err != nil {
			return fmt.Errorf("listing pods in %s with %v: %w", ns, l.Selector, err)
		}
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				name = p.Name
				break
			}
		}
		if name == "" {
			return fmt.Errorf("no running pod in %s with %v", ns, l.Selector)
		}
	}
	tail := int64(5)
	opts := &corev1.PodLogOptions{Container: l.Container, TailLines: &tail}
	if _, err := c.Clientset().CoreV1().Pods(ns).GetLogs(name, opts).DoRaw(ctx); err != nil {
		return fmt.Errorf("logs of pod %s/%s: %w", ns, name, err)
	}
	return nil
}

// writeCanary writes a ConfigMap with a random value into the customer cluster.
func (r *run) writeCanary(ctx context.Context, w *scenarios.WriteCanary) error {
	c, err := r.openCustomer(ctx)
	if err != nil {
		return err
	}
	cn := canary{namespace: w.Namespace, name: w.Name, value: randomSuffix(16)}
	if cn.namespace == "" {
		cn.namespace = "default"
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: cn.namespace, Name: cn.name, Labels: map[string]string{"scenarios.kaas.sandbox/canary": "true"}},
		Data:       map[string]string{canaryKey: cn.value},
	}
	if err := c.Client().Create(ctx, cm); err != nil {
		return fmt.Errorf("writing canary ConfigMap %s/%s: %w", cn.namespace, cn.name, err)
	}
	r.canaries[w.Name] = cn
	return nil
}

// checkCanary checks that a canary is still there with its value.
func (r *run) checkCanary(ctx context.Context, name string) error {
	cn, ok := r.canaries[name]
	if !ok {
		return fmt.Errorf("canary %q was not written", name)
	}
	c, err := r.openCustomer(ctx)
	if err != nil {
		return err
	}
	var cm corev1.ConfigMap
	if err := c.Client().Get(ctx, types.NamespacedName{Namespace: cn.namespace, Name: cn.name}, &cm); err != nil {
		return fmt.Errorf("canary ConfigMap %s/%s: %w", cn.namespace, cn.name, err)
	}
	if got := cm.Data[canaryKey]; got != cn.value {
		return fmt.Errorf("canary ConfigMap %s/%s holds %q, written %q", cn.namespace, cn.name, got, cn.value)
	}
	return nil
}

// retry runs fn until it succeeds, within the named interval (once, when within is empty).
func (r *run) retry(ctx context.Context, within, what string, fn func() error) error {
	if within == "" {
		return fn()
	}
	iv, err := r.interval(within, "default")
	if err != nil {
		return err
	}
	start := time.Now()
	lastReport := start
	every := r.env.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Since(start) > iv.Timeout.Duration {
			return fmt.Errorf("%s did not succeed within %s: %w", what, iv.Timeout, err)
		}
		if time.Since(lastReport) >= every {
			lastReport = time.Now()
			r.progress.linef("  %s, %s of %s: %v", what, time.Since(start).Round(time.Second), iv.Timeout, err)
		}
		if serr := sleep(ctx, iv.PollOrDefault()); serr != nil {
			return errors.Join(fmt.Errorf("%s: %w", what, serr), err)
		}
	}
}

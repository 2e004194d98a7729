package runner

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kaas-sandbox/sandbox/scenarios"
)

// deletePod deletes the pods a step picks and, with volumes, the claims they mount.
func (r *run) deletePod(ctx context.Context, d *scenarios.DeletePod) error {
	c, defNS, err := r.clientFor(ctx, d.Cluster)
	if err != nil {
		return err
	}
	ns := d.Namespace
	if ns == "" {
		ns = defNS
	}
	var pods []corev1.Pod
	if d.Name != "" {
		var p corev1.Pod
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: d.Name}, &p); err != nil {
			return fmt.Errorf("getting pod %s/%s: %w", ns, d.Name, err)
		}
		pods = append(pods, p)
	} else {
		var list corev1.PodList
		if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels(d.Selector)); err != nil {
			return fmt.Errorf("listing pods in %s with %v: %w", ns, d.Selector, err)
		}
		pods = list.Items
	}
	if len(pods) == 0 {
		return fmt.Errorf("no pod in %s matches %v", ns, d.Selector)
	}
	return deletePods(ctx, c, pods, d.Force, d.Volumes, r.progress)
}

// deletePods deletes pods (with a grace period of 0 when force) and, with volumes, their
// PersistentVolumeClaims first, so that the pod's replacement finds its data gone.
func deletePods(ctx context.Context, c client.Client, pods []corev1.Pod, force, volumes bool, p *progress) error {
	var opts []client.DeleteOption
	if force {
		opts = append(opts, client.GracePeriodSeconds(0))
	}
	var errs []error
	for i := range pods {
		pod := &pods[i]
		if volumes {
			for _, v := range pod.Spec.Volumes {
				if v.PersistentVolumeClaim == nil {
					continue
				}
				pvc := &corev1.PersistentVolumeClaim{}
				pvc.Namespace, pvc.Name = pod.Namespace, v.PersistentVolumeClaim.ClaimName
				if err := c.Delete(ctx, pvc); err != nil && !apierrors.IsNotFound(err) {
					errs = append(errs, fmt.Errorf("deleting claim %s/%s: %w", pvc.Namespace, pvc.Name, err))
					continue
				}
				p.linef("  claim %s/%s deleted", pvc.Namespace, pvc.Name)
			}
		}
		if err := c.Delete(ctx, pod, opts...); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err))
			continue
		}
		p.linef("  pod %s/%s deleted", pod.Namespace, pod.Name)
	}
	return errors.Join(errs...)
}

// deleteObject deletes the objects a step picks.
func (r *run) deleteObject(ctx context.Context, d *scenarios.DeleteObject) error {
	objs, err := r.objects(ctx, d.ObjectRef)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return fmt.Errorf("no %s matches %s%v", d.Kind, d.Name, d.Selector)
	}
	c, _, err := r.clientFor(ctx, d.Cluster)
	if err != nil {
		return err
	}
	var errs []error
	for i := range objs {
		if err := c.Delete(ctx, &objs[i]); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting %s %s: %w", d.Kind, objKey(objs[i].GetNamespace(), objs[i].GetName()), err))
			continue
		}
		r.progress.linef("  %s %s deleted", d.Kind, objKey(objs[i].GetNamespace(), objs[i].GetName()))
	}
	return errors.Join(errs...)
}

// killManager deletes a provider manager's pods with a grace period of 0.
func (r *run) killManager(ctx context.Context, k *scenarios.KillManager) error {
	where, ok := k.Deployment()
	if !ok {
		return fmt.Errorf("unknown provider %q", k.Provider)
	}
	var dep appsv1.Deployment
	if err := r.env.Service.Get(ctx, types.NamespacedName{Namespace: where.Namespace, Name: where.Name}, &dep); err != nil {
		return fmt.Errorf("getting the %s provider's Deployment %s/%s: %w", k.Provider, where.Namespace, where.Name, err)
	}
	if dep.Spec.Selector == nil || len(dep.Spec.Selector.MatchLabels) == 0 {
		return fmt.Errorf("deployment %s/%s has no matchLabels selector", where.Namespace, where.Name)
	}
	var pods corev1.PodList
	if err := r.env.Service.List(ctx, &pods, client.InNamespace(where.Namespace), client.MatchingLabels(dep.Spec.Selector.MatchLabels)); err != nil {
		return fmt.Errorf("listing the %s provider's pods: %w", k.Provider, err)
	}
	if len(pods.Items) == 0 {
		return fmt.Errorf("the %s provider has no pod in %s", k.Provider, where.Namespace)
	}
	return deletePods(ctx, r.env.Service, pods.Items, true, false, r.progress)
}

// restartServiceNode restarts the kind node container.
func (r *run) restartServiceNode(ctx context.Context, s *scenarios.RestartServiceNode) error {
	if r.env.Disruptions == nil {
		return errors.New("restartServiceNode needs the sandbox's disruptions (docker)")
	}
	node := s.Node
	if node == "" {
		node = scenarios.DefaultServiceNode
	}
	return r.env.Disruptions.RestartNode(ctx, node, s.DownFor.Duration)
}
